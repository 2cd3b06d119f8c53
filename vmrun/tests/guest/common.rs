//! What the topics share: the results directory and the traces in it.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use trace_analysis::execve;

pub fn results() -> PathBuf {
    let dir = std::env::var_os("VM_RESULTS").map(PathBuf::from).expect(
        "VM_RESULTS=DIR (results of `vmrun run --checks`): run these through `make vm-test`",
    );
    assert!(
        dir.join("manifest.sha256").exists(),
        "{}: no guest results",
        dir.display()
    );
    dir
}

pub fn read(name: &str) -> String {
    let path = results().join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn arch() -> String {
    let cfg = read("config");
    if cfg.contains("\nCONFIG_ARM64=y") {
        "aarch64".into()
    } else {
        "x86_64".into()
    }
}

/// A trace file from ftrace_it -o: `# ftrace_it.KEY: VALUE` lines, then the
/// kernel's trace text.
pub struct Trace {
    pub header: BTreeMap<String, String>,
    pub body: Vec<String>,
}

impl Trace {
    pub fn load(id: &str) -> Trace {
        let text = read(&format!("{id}.trace"));
        let mut header = BTreeMap::new();
        let mut body = Vec::new();
        for line in text.lines() {
            if let Some(kv) = line.strip_prefix("# ftrace_it.") {
                let (k, v) = kv.split_once(": ").unwrap_or((kv, ""));
                header.insert(k.to_string(), v.to_string());
            } else {
                body.push(line.to_string());
            }
        }
        assert!(!body.is_empty(), "{id}.trace has no trace text");
        Trace { header, body }
    }

    pub fn pid(&self) -> u32 {
        self.header["pid"]
            .parse()
            .expect("ftrace_it.pid is a number")
    }

    /// The function tracer's events, in order.
    pub fn events(&self) -> Vec<Event> {
        self.body.iter().filter_map(|l| Event::parse(l)).collect()
    }

    /// The events of the traced program from its execve entry on.
    pub fn target_events(&self) -> Vec<Event> {
        let pid = self.pid();
        let all: Vec<Event> = self.events().into_iter().filter(|e| e.pid == pid).collect();
        let at = all
            .iter()
            .position(|e| e.func == execve())
            .expect("the target's execve is in the trace");
        all[at..].to_vec()
    }
}

#[derive(Clone, Debug)]
pub struct Event {
    pub pid: u32,
    /// The latency flags say hardirq or softirq (`h`, `s`, `H`).
    pub in_interrupt: bool,
    pub func: String,
    pub parent: String,
    /// Printed after the name with `options/sym-addr` (`<ffff8000...>`).
    pub func_addr: Option<u64>,
    pub parent_addr: Option<u64>,
}

/// `<ffff800080010008>`, as `options/sym-addr` prints an address.
pub fn sym_addr(token: &str) -> Option<u64> {
    let hex = token.strip_prefix('<')?.strip_suffix('>')?;
    u64::from_str_radix(hex, 16).ok()
}

impl Event {
    /// `  min-68  [001] d.h1.  12.345678: func <-parent`, or with
    /// sym-addr `func <ADDR> <-parent <ADDR>`.
    pub fn parse(line: &str) -> Option<Event> {
        if line.starts_with('#') {
            return None;
        }
        let open = line.find(" [")?;
        let (task, rest) = line.split_at(open);
        let pid = task.trim().rsplit_once('-')?.1.parse().ok()?;
        let rest = &rest[rest.find("] ")? + 2..];
        let mut it = rest.split_whitespace();
        let in_interrupt = matches!(it.next()?.chars().nth(2), Some('h' | 's' | 'H'));
        it.next()?.strip_suffix(':')?;
        let func = it.next()?.to_string();
        let mut next = it.next();
        let func_addr = next.and_then(sym_addr);
        if func_addr.is_some() {
            next = it.next();
        }
        let parent = next
            .and_then(|p| p.strip_prefix("<-"))
            .unwrap_or("")
            .to_string();
        let parent_addr = it.next().and_then(sym_addr);
        Some(Event {
            pid,
            in_interrupt,
            func,
            parent,
            func_addr,
            parent_addr,
        })
    }
}

pub fn execve() -> &'static str {
    let arch = arch();
    execve::syscall_function(&arch)
        .unwrap_or_else(|| panic!("no execve system call known for {arch}"))
}

pub fn runs() -> BTreeMap<String, String> {
    read("runs.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string())
        })
        .collect()
}
