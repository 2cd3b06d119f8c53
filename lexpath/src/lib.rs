//! Lexical path normalising: `.` and `..` resolved on the text, never
//! through the file system (the paths name files of a kernel tree or a
//! guest archive, not of this machine).
//!
//! The callers differ on what to do with what is left once every
//! `NAME/..` is cancelled: a path that may lead out of where it starts
//! keeps it ([`resolve_dots`]); a path inside a tree with nothing above it
//! drops it ([`in_root`]). Both run one fold.

/// `.` and each `NAME/..` removed, everything else kept as written: a
/// leading `/`, a `..` with no name before it, empty components. For paths
/// that may start above their directory, such as the sources a kernel
/// `.cmd` file names (`/src/lib/../scripts/x.c` -> `/src/scripts/x.c`,
/// `../a/./b` -> `../a/b`).
pub fn resolve_dots(path: &str) -> String {
    fold(path, Rest::Kept).join("/")
}

/// The path inside a tree nothing is above (a source tree, the guest's
/// archive), relative to its top: `.`, empty components, each `NAME/..`
/// and every `..` at the top removed (`/a/../../b` -> `b`). An absolute
/// path in the tree is `format!("/{}", in_root(path))`.
pub fn in_root(path: &str) -> String {
    fold(path, Rest::Dropped).join("/")
}

/// What the fold does with the components it cannot cancel or drop on
/// their own merit: a `..` with no name before it and an empty component.
#[derive(Clone, Copy, PartialEq)]
enum Rest {
    Kept,
    Dropped,
}

fn fold(path: &str, rest: Rest) -> Vec<&str> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "." => {}
            ".." if parts.last().is_some_and(|p| !p.is_empty() && *p != "..") => {
                parts.pop();
            }
            ".." | "" if rest == Rest::Dropped => {}
            _ => parts.push(part),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (path, kernel_index's source paths, preproc's include paths,
    /// vmrun's library closure): each caller's result before the three
    /// copies became this crate.
    const CASES: [(&str, &str, &str, &str); 21] = [
        ("", "", "", "/"),
        (".", "", "", "/"),
        ("/", "/", "", "/"),
        ("a/b", "a/b", "a/b", "/a/b"),
        (
            "/src/lib/../scripts/dtc/libfdt/fdt.c",
            "/src/scripts/dtc/libfdt/fdt.c",
            "src/scripts/dtc/libfdt/fdt.c",
            "/src/scripts/dtc/libfdt/fdt.c",
        ),
        (
            "./drivers/tty/vt/defkeymap.c",
            "drivers/tty/vt/defkeymap.c",
            "drivers/tty/vt/defkeymap.c",
            "/drivers/tty/vt/defkeymap.c",
        ),
        (
            "/elsewhere/x.c",
            "/elsewhere/x.c",
            "elsewhere/x.c",
            "/elsewhere/x.c",
        ),
        // A leading `..`: kept only where the path may lead out.
        ("../a/./b", "../a/b", "a/b", "/a/b"),
        ("a/../../b", "../b", "b", "/b"),
        ("/../a", "/../a", "a", "/a"),
        ("a//b", "a//b", "a/b", "/a/b"),
        ("a/b/..", "a", "a", "/a"),
        (
            "lib/../scripts/dtc/libfdt/fdt.c",
            "scripts/dtc/libfdt/fdt.c",
            "scripts/dtc/libfdt/fdt.c",
            "/scripts/dtc/libfdt/fdt.c",
        ),
        ("/x.h", "/x.h", "x.h", "/x.h"),
        ("lib/../../x.h", "../x.h", "x.h", "/x.h"),
        (
            "/usr/bin/../lib/libm.so.6",
            "/usr/lib/libm.so.6",
            "usr/lib/libm.so.6",
            "/usr/lib/libm.so.6",
        ),
        (
            "/lib/aarch64-linux-gnu/./libc.so.6",
            "/lib/aarch64-linux-gnu/libc.so.6",
            "lib/aarch64-linux-gnu/libc.so.6",
            "/lib/aarch64-linux-gnu/libc.so.6",
        ),
        ("lib/x.so", "lib/x.so", "lib/x.so", "/lib/x.so"),
        ("//lib///x.so/", "//lib///x.so/", "lib/x.so", "/lib/x.so"),
        // Empty components kept as written can make the text absolute.
        ("a/..//../b", "/../b", "b", "/b"),
        ("a//../b", "a//../b", "b", "/b"),
    ];

    #[test]
    fn each_caller_keeps_its_results() {
        for (path, index, preproc, closure) in CASES {
            assert_eq!(resolve_dots(path), index, "resolve_dots({path:?})");
            assert_eq!(in_root(path), preproc, "in_root({path:?})");
            assert_eq!(format!("/{}", in_root(path)), closure, "/in_root({path:?})");
        }
    }
}
