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

/// Drops this executable's code pages from the process's page tables (they stay
/// in the page cache). Start-up runs megabytes of code that serving never runs
/// again (manifest and config parsing, linking every host interface, the
/// container set-up): the next instructions fault back in, from the page cache,
/// only the code that still runs, so the process stays resident for that alone.
fn release_code_pages() {
    #[cfg(target_os = "linux")]
    if let Some((start, len)) = own_code_segment() {
        // SAFETY: the range is this executable's code segment: a private mapping of
        // its file that is never written (no text relocations; the binary is linked
        // with BIND_NOW), so dropping its pages changes no byte any later access
        // reads, it only makes that access fault the page back in from the file.
        let rc = unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
        if rc != 0 {
            tracing::debug!("madvise of the code segment: {}", std::io::Error::last_os_error());
        }
    }
}

/// The page-aligned address range of the main executable's executable `PT_LOAD` segment.
#[cfg(target_os = "linux")]
fn own_code_segment() -> Option<(usize, usize)> {
    unsafe extern "C" fn first_object(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        out: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: the loader passes a valid `dl_phdr_info` whose program headers
        // stay valid during the call; `out` is the `Option` given below.
        let (info, out) = unsafe { (&*info, &mut *(out as *mut Option<(usize, usize)>)) };
        let headers: &[libc::Elf64_Phdr] = if info.dlpi_phdr.is_null() {
            &[]
        } else {
            // SAFETY: `dlpi_phnum` headers start at `dlpi_phdr`.
            unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) }
        };
        *out = headers.iter().find(|h| h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_X != 0).map(|h| {
            let page = 4096usize;
            let start = info.dlpi_addr as usize + h.p_vaddr as usize;
            let end = start + h.p_memsz as usize;
            // Whole pages inside the segment only: its first and last pages may hold other sections.
            let first = start.div_ceil(page) * page;
            let last = end / page * page;
            (first, last.saturating_sub(first))
        });
        1 // The first object is the main program: stop here.
    }
    let mut found: Option<(usize, usize)> = None;
    // SAFETY: the callback only reads what the loader passes and writes `found`.
    unsafe { libc::dl_iterate_phdr(Some(first_object), &mut found as *mut _ as *mut libc::c_void) };
    found.filter(|&(_, len)| len > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_segment_is_found_and_holds_this_function() {
        let (start, len) = own_code_segment().expect("the main program has an executable segment");
        let here = own_code_segment as fn() -> Option<(usize, usize)> as usize;
        assert!(start <= here && here < start + len, "{start:#x}+{len:#x} does not hold {here:#x}");
        assert_eq!(start % 4096, 0);
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
        let (start, _) = own_code_segment().unwrap();
        let before = resident_kb(start);
        release_start_up_memory();
        let after = resident_kb(start);
        // Only what ran since (this test and the harness's threads) is back.
        assert!(after < before / 2, "resident code {before} kB -> {after} kB");
        let v: Vec<u64> = (0..1000).map(|i| i * 3).collect();
        assert_eq!(v.iter().sum::<u64>(), 1_498_500);
    }
}
