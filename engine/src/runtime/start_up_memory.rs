//! Letting go of what start-up (and compiling) used and serving does not need.

/// Hands back what the process used only to start or to compile: the allocator's
/// free heap, and the mapping of this executable's code, so that the pages stay
/// resident only for the code that runs from now on. Call once the app is ready to
/// serve, and again after a background compile.
pub fn release_start_up_memory() {
    release_free_heap();
    release_code_pages();
}

/// glibc keeps freed memory for reuse, so a process that compiled would otherwise
/// carry the compiler's leftovers (6 MiB of a hello app's 38) for its whole life.
fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Drops this executable's read-only pages (its code, constants and symbol
/// tables) from the process's page tables; they stay in the page cache. Start-up
/// runs megabytes of code that serving never runs again (manifest and config
/// parsing, linking every host interface, the container set-up): the next
/// accesses fault back in, from the page cache, only what still runs, so the
/// process stays resident for that alone.
fn release_code_pages() {
    CodePages::find().release();
}

/// The executable's read-only pages, found once, so that a thread which must
/// neither allocate nor take the loader's lock (one in a process that forks
/// right after) can drop them later with system calls alone.
#[derive(Clone, Copy, Debug, Default)]
pub struct CodePages {
    ranges: [(usize, usize); MAX_SEGMENTS],
    count: usize,
}

/// More read-only `PT_LOAD` segments than linkers write (two or three).
const MAX_SEGMENTS: usize = 8;

impl CodePages {
    /// This process's executable's read-only segments (none off Linux).
    pub fn find() -> Self {
        let mut pages = Self::default();
        #[cfg(target_os = "linux")]
        for range in own_read_only_segments().into_iter().take(MAX_SEGMENTS) {
            pages.ranges[pages.count] = range;
            pages.count += 1;
        }
        pages
    }

    /// Drops the pages from the page tables: `madvise` calls only, no allocation,
    /// no lock.
    pub fn release(&self) {
        #[cfg(target_os = "linux")]
        for &(start, len) in &self.ranges[..self.count] {
            // SAFETY: the range is a read-only segment of this executable: a private
            // mapping of its file that is never written (no text relocations; the
            // relocated data is in the writable segment), so dropping its pages
            // changes no byte any later access reads, it only makes that access fault
            // the page back in from the file.
            unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
        }
    }
}

/// The whole pages of the main executable's `PT_LOAD` segments that are not
/// writable. A segment's first and last pages may be shared with a neighbour, so
/// only the pages wholly inside one are given.
#[cfg(target_os = "linux")]
fn own_read_only_segments() -> Vec<(usize, usize)> {
    unsafe extern "C" fn first_object(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        out: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: the loader passes a valid `dl_phdr_info` whose program headers
        // stay valid during the call; `out` is the `Vec` given below.
        let (info, out) = unsafe { (&*info, &mut *(out as *mut Vec<(usize, usize)>)) };
        let headers: &[libc::Elf64_Phdr] = if info.dlpi_phdr.is_null() {
            &[]
        } else {
            // SAFETY: `dlpi_phnum` headers start at `dlpi_phdr`.
            unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) }
        };
        let page = 4096usize;
        let segments = headers.iter().filter(|h| h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_W == 0).map(|h| {
            let start = info.dlpi_addr as usize + h.p_vaddr as usize;
            let end = start + h.p_memsz as usize;
            let first = start.div_ceil(page) * page;
            let last = end / page * page;
            (first, last.saturating_sub(first))
        });
        out.extend(segments.filter(|&(_, len)| len > 0));
        1 // The first object is the main program: stop here.
    }
    let mut found: Vec<(usize, usize)> = Vec::new();
    // SAFETY: the callback only reads what the loader passes and writes `found`.
    unsafe { libc::dl_iterate_phdr(Some(first_object), &mut found as *mut _ as *mut libc::c_void) };
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The read-only segment that holds this module's code.
    fn code_segment() -> (usize, usize) {
        let here = own_read_only_segments as fn() -> Vec<(usize, usize)> as usize;
        let segments = own_read_only_segments();
        *segments
            .iter()
            .find(|&&(start, len)| start <= here && here < start + len)
            .unwrap_or_else(|| panic!("no read-only segment of {segments:x?} holds {here:#x}"))
    }

    #[test]
    fn the_read_only_segments_are_whole_pages_and_hold_the_code() {
        let (start, len) = code_segment();
        assert_eq!((start % 4096, len % 4096), (0, 0));
    }

    /// Resident kB of the mapping that holds `address` (`/proc/self/smaps`).
    fn resident_kb(address: usize) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ').filter(|(r, _)| r.contains('-') && !r.ends_with(':')) {
                let (from, to) = range.split_once('-').unwrap();
                let (from, to) = (usize::from_str_radix(from, 16).unwrap(), usize::from_str_radix(to, 16).unwrap());
                inside = from <= address && address < to;
            } else if inside && line.starts_with("Rss:") {
                return line.split_whitespace().nth(1).unwrap().parse().unwrap();
            }
        }
        panic!("no mapping holds {address:#x}");
    }

    #[test]
    fn dropped_code_pages_leave_the_process_and_the_code_runs_on() {
        let (start, _) = code_segment();
        let before = resident_kb(start);
        release_start_up_memory();
        let after = resident_kb(start);
        // Only what ran since (this test and the harness's threads) is back.
        assert!(after < before / 2, "resident code {before} kB -> {after} kB");
        let v: Vec<u64> = (0..1000).map(|i| i * 3).collect();
        assert_eq!(v.iter().sum::<u64>(), 1_498_500);
    }
}
