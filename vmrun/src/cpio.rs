//! A writer for the cpio "newc" format (the one the kernel unpacks as an
//! initramfs; see the kernel's Documentation/driver-api/early-userspace/
//! buffer-format.rst). Timestamps and owners are fixed, so the same inputs
//! give the same bytes.

const MAGIC: &str = "070701";
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;
const S_IFLNK: u32 = 0o120000;

pub struct Cpio {
    buf: Vec<u8>,
    next_ino: u32,
}

impl Cpio {
    pub fn new() -> Self {
        Cpio {
            buf: Vec::new(),
            next_ino: 1,
        }
    }

    /// `path` is relative to the archive root (no leading `/`); parents must
    /// have been added before.
    pub fn dir(&mut self, path: &str, perm: u32) {
        self.entry(path, S_IFDIR | perm, 2, (0, 0), &[]);
    }

    pub fn file(&mut self, path: &str, perm: u32, data: &[u8]) {
        self.entry(path, S_IFREG | perm, 1, (0, 0), data);
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.entry(path, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes());
    }

    pub fn char_dev(&mut self, path: &str, perm: u32, major: u32, minor: u32) {
        self.entry(path, S_IFCHR | perm, 1, (major, minor), &[]);
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.header("TRAILER!!!", 0, 0, 1, 0, (0, 0));
        self.buf
    }

    fn entry(&mut self, path: &str, mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]) {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.header(path, ino, mode, nlink, data.len(), rdev);
        self.buf.extend_from_slice(data);
        self.pad();
    }

    fn header(
        &mut self,
        name: &str,
        ino: u32,
        mode: u32,
        nlink: u32,
        size: usize,
        rdev: (u32, u32),
    ) {
        let size = u32::try_from(size).expect("newc holds files below 4 GiB");
        let fields = [
            ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime
            size,
            0, // devmajor
            0, // devminor
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0, // check: only used by the "crc" variant
        ];
        self.buf.extend_from_slice(MAGIC.as_bytes());
        for f in fields {
            self.buf.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        self.pad();
    }

    /// Header+name and data each end on a 4-byte boundary.
    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Entry {
        name: String,
        ino: u32,
        mode: u32,
        nlink: u32,
        rdev: (u32, u32),
        data: Vec<u8>,
    }

    /// An independent reader of the format, strict about every rule.
    fn parse(mut b: &[u8]) -> Vec<Entry> {
        let total = b.len();
        let mut out = Vec::new();
        loop {
            let offset = total - b.len();
            assert_eq!(offset % 4, 0, "entry at {offset} not aligned");
            assert_eq!(&b[..6], b"070701", "magic at {offset}");
            let field = |i: usize| {
                let s = std::str::from_utf8(&b[6 + 8 * i..14 + 8 * i]).unwrap();
                assert!(s.bytes().all(|c| c.is_ascii_hexdigit()), "{s}");
                u32::from_str_radix(s, 16).unwrap()
            };
            let (size, namesize) = (field(6) as usize, field(11) as usize);
            assert_eq!(field(12), 0, "check field");
            let name = &b[110..110 + namesize];
            assert_eq!(name.last(), Some(&0), "name NUL-terminated");
            let name = String::from_utf8(name[..namesize - 1].to_vec()).unwrap();
            let data_at = (110 + namesize).next_multiple_of(4);
            assert!(b[110 + namesize..data_at].iter().all(|&x| x == 0));
            let end = (data_at + size).next_multiple_of(4);
            assert!(b[data_at + size..end].iter().all(|&x| x == 0));
            let entry = Entry {
                name,
                ino: field(0),
                mode: field(1),
                nlink: field(4),
                rdev: (field(9), field(10)),
                data: b[data_at..data_at + size].to_vec(),
            };
            assert_eq!((field(2), field(3), field(5)), (0, 0, 0), "uid gid mtime");
            b = &b[end..];
            if entry.name == "TRAILER!!!" {
                assert!(b.is_empty(), "bytes after the trailer");
                return out;
            }
            out.push(entry);
        }
    }

    #[test]
    fn parses_back_what_it_wrote() {
        let mut c = Cpio::new();
        c.dir("dev", 0o755);
        c.char_dev("dev/console", 0o600, 5, 1);
        c.file("init", 0o755, b"\x7fELF....");
        c.file("etc", 0o644, b"abc");
        c.file("empty", 0o644, b"");
        let entries = parse(&c.finish());
        let e = |name: &str, ino, mode, nlink, rdev, data: &[u8]| Entry {
            name: name.into(),
            ino,
            mode,
            nlink,
            rdev,
            data: data.to_vec(),
        };
        assert_eq!(
            entries,
            [
                e("dev", 1, 0o040755, 2, (0, 0), b""),
                e("dev/console", 2, 0o020600, 1, (5, 1), b""),
                e("init", 3, 0o100755, 1, (0, 0), b"\x7fELF...."),
                e("etc", 4, 0o100644, 1, (0, 0), b"abc"),
                e("empty", 5, 0o100644, 1, (0, 0), b""),
            ]
        );
    }

    #[test]
    fn header_bytes_match_the_format_exactly() {
        let mut c = Cpio::new();
        c.file("ab", 0o644, b"xyz");
        let bytes = c.finish();
        let fields = [
            "00000001", // ino
            "000081A4", // regular file, 0644
            "00000000", // uid
            "00000000", // gid
            "00000001", // nlink
            "00000000", // mtime
            "00000003", // filesize
            "00000000", // devmajor
            "00000000", // devminor
            "00000000", // rdevmajor
            "00000000", // rdevminor
            "00000003", // namesize, NUL included
            "00000000", // check
        ];
        assert_eq!(
            &bytes[..110],
            format!("070701{}", fields.concat()).as_bytes()
        );
        // Name "ab\0" ends at 113, padded to 116; then the data, padded to 120.
        assert_eq!(&bytes[110..120], b"ab\0\0\0\0xyz\0");
        assert_eq!(bytes.len() % 4, 0);
    }
}
