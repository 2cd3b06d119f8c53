//! `System.map` (text symbols) and `vmlinux.map` (the GNU ld map: where
//! each input section of each object landed).

use std::path::Path;

use crate::error::Error;

/// A text symbol of `System.map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MapSymbol {
    pub address: u64,
    pub kind: char,
    pub name: String,
}

/// Text symbols (`t`, `T`, `w`, `W`) of `System.map`, by address.
pub(crate) fn parse_system_map(text: &str, path: &Path) -> Result<Vec<MapSymbol>, Error> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut f = line.split_whitespace();
        let (Some(addr), Some(kind), Some(name), None) = (f.next(), f.next(), f.next(), f.next())
        else {
            return Err(Error::Parse {
                path: path.to_path_buf(),
                line: n + 1,
                message: format!("not `ADDRESS TYPE NAME`: {line:?}"),
            });
        };
        let address = u64::from_str_radix(addr, 16).map_err(|_| Error::Parse {
            path: path.to_path_buf(),
            line: n + 1,
            message: format!("bad address {addr:?}"),
        })?;
        let kind = kind.chars().next().unwrap_or(' ');
        if matches!(kind, 't' | 'T' | 'w' | 'W') {
            out.push(MapSymbol {
                address,
                kind,
                name: name.to_string(),
            });
        }
    }
    out.sort_by_key(|s| s.address);
    Ok(out)
}

/// An input section placed in the output, from the memory map part of
/// `vmlinux.map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placed {
    pub section: String,
    pub address: u64,
    pub size: u64,
    /// The object file, relative to the build tree; for an archive member
    /// written `ARCHIVE(MEMBER)`, the member.
    pub file: String,
    /// The archive, when the map names one.
    pub archive: Option<String>,
}

/// How the linker took an object in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pulled {
    /// `--whole-archive`: every member of `vmlinux.a`.
    WholeArchive,
    /// A member of a library archive, pulled in for a symbol.
    ForSymbol { by: String, symbol: String },
}

/// What `vmlinux.map` says.
#[derive(Debug, Default)]
pub(crate) struct LinkMap {
    /// Non-empty input sections at non-zero addresses, by address.
    pub placed: Vec<Placed>,
    /// The archive members section at the top: why each member (named as
    /// in `placed`) was linked.
    pub pulled: Vec<(String, Pulled)>,
    /// `LOAD` lines: what the link command line named.
    pub loaded: Vec<String>,
}

pub(crate) fn parse_link_map(text: &str, path: &Path) -> Result<LinkMap, Error> {
    let mut map = LinkMap::default();
    let lines = text.lines().enumerate();
    let bad = |n: usize, message: String| Error::Parse {
        path: path.to_path_buf(),
        line: n + 1,
        message,
    };

    // "Archive member included to satisfy reference by file (symbol)": a
    // member name, then (on the same line or the next, indented) the reason.
    let mut in_members = false;
    let mut member: Option<String> = None;
    let mut in_memory_map = false;
    // A long input section name is alone on its line; the numbers follow.
    let mut pending_section: Option<String> = None;
    for (n, line) in lines {
        if line.starts_with("Archive member included") {
            in_members = true;
            continue;
        }
        if line.starts_with("Discarded input sections") || line.starts_with("Memory Configuration")
        {
            in_members = false;
            continue;
        }
        if line.starts_with("Linker script and memory map") {
            in_members = false;
            in_memory_map = true;
            continue;
        }
        if in_members {
            if line.trim().is_empty() {
                continue;
            }
            let mut rest = line;
            if !line.starts_with(' ') {
                let (name, tail) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                member = Some(name.to_string());
                rest = tail;
            }
            let rest = rest.trim();
            if rest.is_empty() {
                continue;
            }
            let Some(m) = member.take() else {
                return Err(bad(
                    n,
                    format!("archive member reason without a member: {line:?}"),
                ));
            };
            let reason = if rest == "(--whole-archive)" {
                Pulled::WholeArchive
            } else {
                let (by, symbol) = rest
                    .strip_suffix(')')
                    .and_then(|r| r.rsplit_once(" ("))
                    .ok_or_else(|| bad(n, format!("archive member reason: {line:?}")))?;
                Pulled::ForSymbol {
                    by: split_member(by.trim()).0,
                    symbol: symbol.to_string(),
                }
            };
            map.pulled.push((split_member(&m).0, reason));
            continue;
        }
        if !in_memory_map {
            continue;
        }
        if let Some(file) = line.strip_prefix("LOAD ") {
            map.loaded.push(file.trim().to_string());
            continue;
        }
        // Input sections are indented by one space and start with `.`;
        // `*fill*`, `*(pattern)` and symbol lines are not.
        let (section, numbers) = if let Some(section) = pending_section.take() {
            (section, line)
        } else if line.starts_with(" .") {
            let body = &line[1..];
            match body.split_once(char::is_whitespace) {
                None => {
                    pending_section = Some(body.to_string());
                    continue;
                }
                Some((s, rest)) => (s.to_string(), rest),
            }
        } else {
            continue;
        };
        let mut f = numbers.split_whitespace();
        let (Some(addr), Some(size)) = (f.next(), f.next()) else {
            return Err(bad(
                n,
                format!("input section {section} without address and size"),
            ));
        };
        let file = f.collect::<Vec<_>>().join(" ");
        let hex = |s: &str| {
            s.strip_prefix("0x")
                .and_then(|h| u64::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad(n, format!("bad number {s:?} in {line:?}")))
        };
        let (address, size) = (hex(addr)?, hex(size)?);
        if size == 0 || address == 0 || file.is_empty() {
            continue;
        }
        let (file, archive) = split_member(&file);
        map.placed.push(Placed {
            section,
            address,
            size,
            file,
            archive,
        });
    }
    if !in_memory_map {
        return Err(bad(
            0,
            "no \"Linker script and memory map\" part".to_string(),
        ));
    }
    map.placed.sort_by_key(|p| p.address);
    Ok(map)
}

/// `lib/lib.a(ctype.o)` -> (`lib/ctype.o`, `lib/lib.a`); a member with a
/// directory is taken as it is (thin archives store paths).
fn split_member(file: &str) -> (String, Option<String>) {
    if let Some(inner) = file.strip_suffix(')') {
        if let Some((archive, member)) = inner.split_once('(') {
            if archive.ends_with(".a") {
                let path = if member.contains('/') {
                    member.to_string()
                } else {
                    let dir = archive.rfind('/').map_or("", |i| &archive[..=i]);
                    format!("{dir}{member}")
                };
                return (path, Some(archive.to_string()));
            }
        }
    }
    (file.to_string(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_map_text_symbols() {
        let text = "ffff800080000000 T _text\nffff800080010000 t gic_handle_irq\n0000000000000200 A PECOFF\nffff800080010010 W weak_fn\nffff8000804a0000 D data\n";
        let s = parse_system_map(text, Path::new("System.map")).unwrap();
        let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["_text", "gic_handle_irq", "weak_fn"]);
        let e = parse_system_map("zz T x\n", Path::new("System.map")).unwrap_err();
        assert!(e.to_string().contains("System.map:1"), "{e}");
        assert!(parse_system_map("ffff T\n", Path::new("S")).is_err());
    }

    const MAP: &str = "\
Archive member included to satisfy reference by file (symbol)

init/main.o                   (--whole-archive)
arch/arm64/kernel/debug-monitors.o
                              (--whole-archive)
lib/ctype.o                   kernel/sysctl.o (_ctype)
arch/arm64/lib/copy_from_user.o
                              arch/arm64/kernel/ptrace.o (__arch_copy_from_user)
lib/lib.a(sort.o)             vmlinux.a(kernel/sys.o) (sort)

Discarded input sections

 .text          0x0000000000000000        0x0 init/version.o

Memory Configuration

Linker script and memory map

.text           0xffff800080010000   0x2a5000
 *(.irqentry.text)
 .irqentry.text
                0xffff800080010000       0xa0 drivers/irqchip/irq-gic.o
 .irqentry.text
                0xffff8000800100a0       0xdc drivers/irqchip/irq-gic-v3.o
 *fill*         0xffff80008001017c        0x4 
 .text          0xffff800080013928      0x548 init/main.o
                0xffff800080013930                __traceiter_initcall_level
 .text          0xffff800080013e70        0x0 init/version.o
 .text          0xffff800080014000       0x10 lib/lib.a(ctype.o)
 .text.stub     0xffff800080015000       0x10 linker stubs
LOAD vmlinux.a
LOAD init/version-timestamp.o
";

    #[test]
    fn link_map_sections_members_and_loads() {
        let m = parse_link_map(MAP, Path::new("vmlinux.map")).unwrap();
        let placed: Vec<(&str, u64, &str)> = m
            .placed
            .iter()
            .map(|p| (p.section.as_str(), p.size, p.file.as_str()))
            .collect();
        assert_eq!(
            placed,
            [
                (".irqentry.text", 0xa0, "drivers/irqchip/irq-gic.o"),
                (".irqentry.text", 0xdc, "drivers/irqchip/irq-gic-v3.o"),
                (".text", 0x548, "init/main.o"),
                (".text", 0x10, "lib/ctype.o"),
                (".text.stub", 0x10, "linker stubs"),
            ]
        );
        assert_eq!(m.placed[3].archive.as_deref(), Some("lib/lib.a"));
        assert_eq!(m.pulled.len(), 5);
        assert_eq!(
            m.pulled[4],
            (
                "lib/sort.o".to_string(),
                Pulled::ForSymbol {
                    by: "kernel/sys.o".into(),
                    symbol: "sort".into()
                }
            )
        );
        assert_eq!(m.pulled[1].0, "arch/arm64/kernel/debug-monitors.o");
        assert_eq!(m.pulled[1].1, Pulled::WholeArchive);
        assert_eq!(
            m.pulled[3].1,
            Pulled::ForSymbol {
                by: "arch/arm64/kernel/ptrace.o".into(),
                symbol: "__arch_copy_from_user".into()
            }
        );
        assert_eq!(m.loaded, ["vmlinux.a", "init/version-timestamp.o"]);
    }

    #[test]
    fn damaged_link_map() {
        let e = parse_link_map("no map here\n", Path::new("vmlinux.map")).unwrap_err();
        assert!(e.to_string().contains("memory map"), "{e}");
        let text = "Linker script and memory map\n .text 0xzz 0x10 a.o\n";
        let e = parse_link_map(text, Path::new("vmlinux.map")).unwrap_err();
        assert!(e.to_string().contains("vmlinux.map:2"), "{e}");
    }
}
