//! The stubs' record files: one JSON object per line, appended as things happen. A spec notes
//! each file's length when it starts and reads only what came after.

use std::fs;
use std::path::Path;

use serde_json::Value;

/// The current length of a record file (0 when it does not exist yet).
pub fn offset(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The complete lines written to `path` after byte `from`, parsed. A line still being written
/// (no newline yet) is left for the next read.
pub fn read_since(path: &Path, from: u64) -> Vec<Value> {
    let Ok(bytes) = fs::read(path) else {
        return Vec::new();
    };
    let start = usize::try_from(from).unwrap_or(usize::MAX).min(bytes.len());
    let tail = &bytes[start..];
    let complete = tail
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(&tail[..0], |end| &tail[..=end]);
    complete
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            serde_json::from_slice(line).unwrap_or_else(|e| {
                panic!(
                    "{}: a record is not JSON ({e}): {}",
                    path.display(),
                    String::from_utf8_lossy(line)
                )
            })
        })
        .collect()
}
