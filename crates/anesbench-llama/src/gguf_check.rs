//! A GGUF sanity check in Rust before the file reaches llama.cpp, which may abort the
//! process (not return an error) on some malformed inputs. Walks the header, every
//! metadata key/value and every tensor description, checking lengths against the file size.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use crate::LlamaError;

const MAGIC: &[u8; 4] = b"GGUF";
/// Far above any real model; a larger count means a corrupt header.
const MAX_COUNT: u64 = 1 << 24;
const MAX_DIMS: u32 = 4;
/// Highest `ggml_type` id known to the pinned llama.cpp (with room for new types).
const MAX_GGML_TYPE: u32 = 64;

/// What the check learned, for the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufHeader {
    pub version: u32,
    pub tensor_count: u64,
    pub kv_count: u64,
    pub file_size: u64,
    /// The distinct ggml type ids of its tensors, ascending.
    pub tensor_types: Vec<u32>,
}

/// Validate the GGUF structure of `path`; errors name the file and what is wrong.
pub fn check_gguf(path: &Path) -> Result<GgufHeader, LlamaError> {
    let invalid = |reason: String| LlamaError::InvalidGguf {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            crate::resolve::missing_model(path)
        } else {
            invalid(format!("cannot open: {e}"))
        }
    })?;
    let file_size = file
        .metadata()
        .map_err(|e| invalid(format!("cannot stat: {e}")))?
        .len();
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(invalid("is a directory, not a GGUF file".into()));
    }
    let mut r = Reader {
        inner: BufReader::with_capacity(1 << 16, file),
        size: file_size,
    };
    let mut magic = [0u8; 4];
    r.bytes(&mut magic).map_err(|_| {
        invalid(format!(
            "file is {file_size} bytes, too short for a GGUF header"
        ))
    })?;
    if &magic != MAGIC {
        return Err(invalid(format!(
            "does not start with the GGUF magic (found {:02x?}); is it a GGUF model file?",
            magic
        )));
    }
    let version = r.u32().map_err(&invalid)?;
    if !(2..=3).contains(&version) {
        return Err(invalid(format!(
            "unsupported GGUF version {version} (llama.cpp reads 2 and 3)"
        )));
    }
    let tensor_count = r.u64().map_err(&invalid)?;
    let kv_count = r.u64().map_err(&invalid)?;
    if tensor_count > MAX_COUNT || kv_count > MAX_COUNT {
        return Err(invalid(format!(
            "implausible header: {tensor_count} tensors, {kv_count} metadata keys"
        )));
    }
    for i in 0..kv_count {
        let key = r
            .string()
            .map_err(|e| invalid(format!("metadata key #{i}: {e}")))?;
        let ty = r
            .u32()
            .map_err(|e| invalid(format!("metadata `{key}`: {e}")))?;
        r.skip_value(ty, 0)
            .map_err(|e| invalid(format!("metadata `{key}`: {e}")))?;
    }
    let mut tensor_types = std::collections::BTreeSet::new();
    for i in 0..tensor_count {
        let name = r
            .string()
            .map_err(|e| invalid(format!("tensor #{i}: {e}")))?;
        let n_dims = r
            .u32()
            .map_err(|e| invalid(format!("tensor `{name}`: {e}")))?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(invalid(format!(
                "tensor `{name}` has {n_dims} dimensions (1 to {MAX_DIMS} allowed)"
            )));
        }
        for _ in 0..n_dims {
            r.u64()
                .map_err(|e| invalid(format!("tensor `{name}`: {e}")))?;
        }
        let ty = r
            .u32()
            .map_err(|e| invalid(format!("tensor `{name}`: {e}")))?;
        if ty > MAX_GGML_TYPE {
            return Err(invalid(format!("tensor `{name}` has unknown type id {ty}")));
        }
        tensor_types.insert(ty);
        let offset = r
            .u64()
            .map_err(|e| invalid(format!("tensor `{name}`: {e}")))?;
        if offset >= file_size {
            return Err(invalid(format!("tensor `{name}` data offset {offset} is past the end of the file ({file_size} bytes); truncated download?")));
        }
    }
    Ok(GgufHeader {
        version,
        tensor_count,
        kv_count,
        file_size,
        tensor_types: tensor_types.into_iter().collect(),
    })
}

struct Reader {
    inner: BufReader<File>,
    size: u64,
}

impl Reader {
    fn bytes(&mut self, buf: &mut [u8]) -> Result<(), String> {
        self.inner
            .read_exact(buf)
            .map_err(|_| "unexpected end of file (truncated?)".to_string())
    }
    fn u32(&mut self) -> Result<u32, String> {
        let mut b = [0u8; 4];
        self.bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let mut b = [0u8; 8];
        self.bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn skip(&mut self, n: u64) -> Result<(), String> {
        let pos = self.inner.stream_position().map_err(|e| e.to_string())?;
        if pos.checked_add(n).is_none_or(|end| end > self.size) {
            return Err(format!(
                "a length of {n} bytes runs past the end of the file"
            ));
        }
        self.inner
            .seek_relative(n as i64)
            .map_err(|e| e.to_string())
    }
    fn string(&mut self) -> Result<String, String> {
        let len = self.u64()?;
        if len > 1 << 20 {
            return Err(format!("string length {len} is implausible"));
        }
        let pos = self.inner.stream_position().map_err(|e| e.to_string())?;
        if pos + len > self.size {
            return Err(format!(
                "a string of {len} bytes runs past the end of the file"
            ));
        }
        let mut buf = vec![0u8; len as usize];
        self.bytes(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
    /// Skip one metadata value of GGUF type `ty`; arrays may not nest deeply.
    fn skip_value(&mut self, ty: u32, depth: u32) -> Result<(), String> {
        match ty {
            0 | 1 | 7 => self.skip(1),
            2 | 3 => self.skip(2),
            4..=6 => self.skip(4),
            10..=12 => self.skip(8),
            8 => {
                let len = self.u64()?;
                self.skip(len)
            }
            9 => {
                if depth > 2 {
                    return Err("arrays nested too deeply".into());
                }
                let elem = self.u32()?;
                let n = self.u64()?;
                if n > self.size {
                    return Err(format!("array of {n} elements cannot fit in the file"));
                }
                match elem {
                    0 | 1 | 7 => self.skip(n),
                    2 | 3 => self.skip(n.saturating_mul(2)),
                    4..=6 => self.skip(n.saturating_mul(4)),
                    10..=12 => self.skip(n.saturating_mul(8)),
                    _ => (0..n).try_for_each(|_| self.skip_value(elem, depth + 1)),
                }
            }
            other => Err(format!("unknown value type {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".gguf").tempfile().unwrap();
        std::io::Write::write_all(&mut f, bytes).unwrap();
        f
    }

    fn header(version: u32, tensors: u64, kvs: u64) -> Vec<u8> {
        let mut v = b"GGUF".to_vec();
        v.extend(version.to_le_bytes());
        v.extend(tensors.to_le_bytes());
        v.extend(kvs.to_le_bytes());
        v
    }

    fn kv_string(key: &str, value: &str) -> Vec<u8> {
        let mut v = (key.len() as u64).to_le_bytes().to_vec();
        v.extend(key.as_bytes());
        v.extend(8u32.to_le_bytes());
        v.extend((value.len() as u64).to_le_bytes());
        v.extend(value.as_bytes());
        v
    }

    #[test]
    fn garbage_is_not_gguf() {
        let f = write(b"this is not a model, just some text that is long enough");
        let err = check_gguf(f.path()).unwrap_err().to_string();
        assert!(
            err.contains("GGUF magic") && err.contains(&f.path().display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn empty_and_short_files_are_rejected() {
        for bytes in [&b""[..], &b"GG"[..], &b"GGUF\x03\x00"[..]] {
            let f = write(bytes);
            assert!(check_gguf(f.path()).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn a_wellformed_metadata_only_file_passes() {
        let mut v = header(3, 0, 1);
        v.extend(kv_string("general.architecture", "gemma3"));
        let f = write(&v);
        let h = check_gguf(f.path()).unwrap();
        assert_eq!((h.version, h.tensor_count, h.kv_count), (3, 0, 1));
    }

    #[test]
    fn truncated_metadata_is_reported_with_the_key() {
        let mut v = header(3, 0, 2);
        v.extend(kv_string("general.architecture", "gemma3"));
        let mut second = kv_string("general.name", "a long model name");
        second.truncate(second.len() - 5);
        v.extend(second);
        let f = write(&v);
        let err = check_gguf(f.path()).unwrap_err().to_string();
        assert!(
            err.contains("general.name") && err.contains("end of the file"),
            "{err}"
        );
    }

    #[test]
    fn bad_version_and_huge_counts_are_rejected() {
        let f = write(&header(9, 0, 0));
        assert!(check_gguf(f.path())
            .unwrap_err()
            .to_string()
            .contains("version 9"));
        let f = write(&header(3, u64::MAX, 0));
        assert!(check_gguf(f.path())
            .unwrap_err()
            .to_string()
            .contains("implausible"));
    }

    #[test]
    fn tensor_offsets_past_the_end_are_rejected() {
        let mut v = header(3, 1, 0);
        v.extend(4u64.to_le_bytes());
        v.extend(b"w.wt");
        v.extend(1u32.to_le_bytes());
        v.extend(16u64.to_le_bytes());
        v.extend(0u32.to_le_bytes());
        v.extend(1_000_000u64.to_le_bytes());
        let f = write(&v);
        let err = check_gguf(f.path()).unwrap_err().to_string();
        assert!(
            err.contains("w.wt") && err.contains("past the end"),
            "{err}"
        );
    }

    #[test]
    fn missing_file_is_not_found() {
        let err = check_gguf(Path::new("/nonexistent/dir/m.gguf")).unwrap_err();
        assert!(matches!(err, LlamaError::NotFound { .. }), "{err}");
    }
}
