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
    /// Never-written segments: code and constants.
    read_only: [(usize, usize); MAX_SEGMENTS],
    count: usize,
    /// The region made read-only after relocation (`PT_GNU_RELRO`: vtables, the
    /// GOT): its pages that relocation wrote are the process's own copies and stay.
    relro: (usize, usize),
}

/// More read-only `PT_LOAD` segments than linkers write (two or three).
const MAX_SEGMENTS: usize = 8;

impl CodePages {
    /// This process's executable's read-only segments (none off Linux).
    pub fn find() -> Self {
        let mut pages = Self::default();
        #[cfg(target_os = "linux")]
        for segment in own_read_only_segments() {
            if segment.relocated {
                pages.relro = (segment.start, segment.len);
            } else if pages.count < MAX_SEGMENTS {
                pages.read_only[pages.count] = (segment.start, segment.len);
                pages.count += 1;
            }
        }
        pages
    }

    /// Drops the pages from the page tables with system calls only: no
    /// allocation, no lock.
    pub fn release(&self) {
        #[cfg(target_os = "linux")]
        {
            // The region first: the code that looks its pages up runs before the
            // code pages go, so it does not fault them back in.
            drop_file_backed_pages(self.relro);
            for &(start, len) in &self.read_only[..self.count] {
                drop_pages(start, len);
            }
        }
    }
}

/// `madvise(MADV_DONTNEED)` on a range of this executable's read-only mapping.
#[cfg(target_os = "linux")]
fn drop_pages(start: usize, len: usize) {
    // SAFETY: callers pass pages of this executable's private file mapping whose
    // bytes are the file's (never written, or checked to be still the file's
    // page), so dropping them changes no byte any later access reads: that access
    // faults the page back in from the file.
    unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
}

/// Drops the pages of `(start, len)` that are still the file's own, as
/// `/proc/self/pagemap` tells: present and file-backed. A page that relocation
/// wrote became an anonymous copy and is kept (dropping it would bring back the
/// unrelocated bytes). The region is read-only, so no page changes meanwhile.
#[cfg(target_os = "linux")]
fn drop_file_backed_pages((start, len): (usize, usize)) {
    const PRESENT: u64 = 1 << 63;
    const FILE_PAGE: u64 = 1 << 61;
    const BATCH: usize = 512;
    if len == 0 {
        return;
    }
    // SAFETY: a NUL-terminated path; the descriptor is closed below.
    let fd = unsafe { libc::open(c"/proc/self/pagemap".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return;
    }
    let (first, pages) = (start / PAGE, len / PAGE);
    let mut entries = [0u64; BATCH];
    let mut run: Option<usize> = None; // first page of the current run of droppable pages
    for batch in (0..pages).step_by(BATCH) {
        let count = BATCH.min(pages - batch);
        let offset = ((first + batch) * 8) as libc::off_t;
        // SAFETY: reads at most `count` entries into the buffer.
        let read = unsafe { libc::pread(fd, entries.as_mut_ptr().cast(), count * 8, offset) };
        let read = if read < 0 { 0 } else { read as usize / 8 };
        for (i, &entry) in entries[..read].iter().enumerate() {
            let page = first + batch + i;
            let droppable = entry & PRESENT != 0 && entry & FILE_PAGE != 0;
            match (droppable, run) {
                (true, None) => run = Some(page),
                (false, Some(from)) => {
                    drop_pages(from * PAGE, (page - from) * PAGE);
                    run = None;
                }
                _ => {}
            }
        }
        if read < count {
            break;
        }
    }
    if let Some(from) = run {
        drop_pages(from * PAGE, (first + pages - from) * PAGE);
    }
    // SAFETY: the descriptor opened above.
    unsafe { libc::close(fd) };
}

const PAGE: usize = 4096;

/// A read-only part of the main executable, in whole pages.
#[cfg(target_os = "linux")]
struct Segment {
    start: usize,
    len: usize,
    /// The relocation read-only region (`PT_GNU_RELRO`) rather than a segment
    /// mapped read-only from the start.
    relocated: bool,
}

/// The whole pages of the main executable's `PT_LOAD` segments that are not
/// writable, and of its `PT_GNU_RELRO` region. A segment's first and last pages
/// may be shared with a neighbour, so only the pages wholly inside one are given.
#[cfg(target_os = "linux")]
fn own_read_only_segments() -> Vec<Segment> {
    unsafe extern "C" fn first_object(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        out: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: the loader passes a valid `dl_phdr_info` whose program headers
        // stay valid during the call; `out` is the `Vec` given below.
        let (info, out) = unsafe { (&*info, &mut *(out as *mut Vec<Segment>)) };
        let headers: &[libc::Elf64_Phdr] = if info.dlpi_phdr.is_null() {
            &[]
        } else {
            // SAFETY: `dlpi_phnum` headers start at `dlpi_phdr`.
            unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) }
        };
        let read_only = |h: &&libc::Elf64_Phdr| {
            (h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_W == 0) || h.p_type == libc::PT_GNU_RELRO
        };
        let segments = headers.iter().filter(read_only).map(|h| {
            let start = info.dlpi_addr as usize + h.p_vaddr as usize;
            let end = start + h.p_memsz as usize;
            let first = start.div_ceil(PAGE) * PAGE;
            let last = end / PAGE * PAGE;
            Segment { start: first, len: last.saturating_sub(first), relocated: h.p_type == libc::PT_GNU_RELRO }
        });
        out.extend(segments.filter(|s| s.len > 0));
        1 // The first object is the main program: stop here.
    }
    let mut found: Vec<Segment> = Vec::new();
    // SAFETY: the callback only reads what the loader passes and writes `found`.
    unsafe { libc::dl_iterate_phdr(Some(first_object), &mut found as *mut _ as *mut libc::c_void) };
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The read-only segment that holds this module's code.
    fn code_segment() -> (usize, usize) {
        let here = own_read_only_segments as fn() -> Vec<Segment> as usize;
        let segments: Vec<(usize, usize)> = own_read_only_segments().iter().map(|s| (s.start, s.len)).collect();
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
        smaps_kb(address, "Rss:")
    }

    /// One kB field of the mapping that holds `address` (`/proc/self/smaps`).
    fn smaps_kb(address: usize, field: &str) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ').filter(|(r, _)| r.contains('-') && !r.ends_with(':')) {
                let (from, to) = range.split_once('-').unwrap();
                let (from, to) = (usize::from_str_radix(from, 16).unwrap(), usize::from_str_radix(to, 16).unwrap());
                inside = from <= address && address < to;
            } else if inside && line.starts_with(field) {
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

    #[test]
    fn relocated_pages_stay_and_dispatch_through_them_runs_on() {
        let pages = CodePages::find();
        let (relro, _) = pages.relro;
        assert!(relro != 0, "no PT_GNU_RELRO region found");
        // A test binary is position-independent: relocation wrote much of its
        // region, into the process's own (anonymous) copies of those pages.
        let written = smaps_kb(relro, "Anonymous:");
        release_start_up_memory();
        assert_eq!(smaps_kb(relro, "Anonymous:"), written, "relocated pages were dropped");
        // Virtual calls go through vtables in that region.
        let shown: Vec<Box<dyn std::fmt::Display>> = vec![Box::new(1), Box::new("two")];
        assert_eq!(shown.iter().map(|d| d.to_string()).collect::<Vec<_>>(), ["1", "two"]);
    }
}
