//! A QEMU TCG plugin (aarch64 or x86_64 system emulation, plugin API >= 4)
//! that records, for each `execve` of a watched path, every kernel function
//! entry its task executes, exactly: a callback on each instruction that
//! starts a function of System.map; the task is `current`, found the
//! architecture's way (`arch`: arm64's `SP_EL0`, x86's per-CPU
//! `pcpu_hot.current_task` through the kernel's GS base).
//!
//! ```text
//! qemu-system-aarch64 ... -plugin libgt_plugin.so,map=System.map,out=DIR,exec=/usr/bin/min
//! ```
//!
//! `exec` may repeat. At exit, `DIR/exec-N.gt` (N = 1, 2, ... in the order
//! of the execve calls) holds each record (format: `Recorder::text`).

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod api;
pub mod arch;
pub mod record;

use api::*;
use arch::{Arch, Guest};
use record::{Recorder, Symbols};
use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

#[no_mangle]
pub static qemu_plugin_version: c_int = 4;

struct Config {
    arch: Arch,
    target: String,
    symbols: Symbols,
    out: PathBuf,
    execve: u32,
}

/// The handles of the architecture's registers (`Arch::registers`) and a
/// buffer, per vCPU.
struct Regs {
    handles: Vec<*mut c_void>,
    buf: *mut GByteArray,
}

impl Guest for Regs {
    fn reg(&self, i: usize) -> Option<u64> {
        read_reg(*self.handles.get(i)?, self.buf)
    }
    fn read_u64(&self, addr: u64) -> Option<u64> {
        Some(u64::from_le_bytes(
            read_mem(self.buf, addr, 8)?.try_into().ok()?,
        ))
    }
}

struct State {
    rec: Recorder,
    regs: Vec<Option<Regs>>,
}

// SAFETY: the raw pointers are QEMU's handles and glib buffers, used only
// under the mutex.
unsafe impl Send for State {}

static CONFIG: OnceLock<Config> = OnceLock::new();
static STATE: Mutex<Option<State>> = Mutex::new(None);
/// Nothing before the first `execve` (the boot) needs a register read.
static ARMED: AtomicBool = AtomicBool::new(false);

fn say(msg: &str) {
    if let Ok(s) = CString::new(format!("gt_plugin: {msg}\n")) {
        // SAFETY: a NUL-terminated string QEMU copies.
        unsafe { qemu_plugin_outs(s.as_ptr()) }
    }
}

/// # Safety
/// Called by QEMU with valid `info` and `argc` C strings in `argv`.
#[no_mangle]
pub unsafe extern "C" fn qemu_plugin_install(
    id: PluginId,
    info: *const Info,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    let args: Vec<String> = (0..argc as usize)
        .map(|i| {
            // SAFETY: QEMU passes `argc` valid C strings in `argv`.
            unsafe { CStr::from_ptr(*argv.add(i)) }
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    // SAFETY: QEMU passes a valid `info` whose target name is a C string.
    let (target, system) = unsafe {
        (
            CStr::from_ptr((*info).target_name).to_string_lossy(),
            (*info).system_emulation,
        )
    };
    match install(&args, &target, system) {
        Ok(()) => {
            // SAFETY: `id` is this plugin's, and the callbacks are `extern
            // "C"` functions with the signatures the API names.
            unsafe {
                qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
                qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
                qemu_plugin_register_atexit_cb(id, at_exit, std::ptr::null_mut());
            }
            0
        }
        Err(e) => {
            say(&e);
            1
        }
    }
}

fn install(args: &[String], target: &str, system: bool) -> Result<(), String> {
    if !system {
        return Err(format!(
            "needs aarch64 or x86_64 system emulation, not {target} user mode"
        ));
    }
    let (mut map, mut out, mut paths) = (None, None, Vec::new());
    for a in args {
        match a.split_once('=') {
            Some(("map", v)) => map = Some(v.to_string()),
            Some(("out", v)) => out = Some(PathBuf::from(v)),
            Some(("exec", v)) => paths.push(v.to_string()),
            _ => return Err(format!("unknown argument {a} (map=, out=, exec=)")),
        }
    }
    let (Some(map), Some(out), false) = (map, out, paths.is_empty()) else {
        return Err("needs map=System.map, out=DIR and exec=PATH".into());
    };
    let text = std::fs::read_to_string(&map).map_err(|e| format!("{map}: {e}"))?;
    let arch = Arch::new(target, &text).map_err(|e| format!("{map}: {e}"))?;
    let symbols = Symbols::parse(&text).map_err(|e| format!("{map}: {e}"))?;
    let find = |name: &str| {
        symbols
            .index(name)
            .ok_or_else(|| format!("{map}: no {name}: not an {target} kernel's System.map"))
    };
    let (execve, dead) = (find(arch.execve())?, find("do_task_dead")?);
    *STATE.lock().unwrap() = Some(State {
        rec: Recorder::new(execve, dead, paths),
        regs: Vec::new(),
    });
    let _ = CONFIG.set(Config {
        arch,
        target: target.to_string(),
        symbols,
        out,
        execve,
    });
    Ok(())
}

/// Register handles exist only in the vCPU's context.
extern "C" fn vcpu_init(_id: PluginId, vcpu: c_uint) {
    let Some(cfg) = CONFIG.get() else { return };
    let want = cfg.arch.registers();
    // SAFETY: QEMU returns an array of descriptors with NUL-terminated
    // names, valid until we free it after the lookups.
    let handles: Vec<Option<*mut c_void>> = unsafe {
        let a = qemu_plugin_get_registers();
        let descs =
            std::slice::from_raw_parts((*a).data as *const RegDescriptor, (*a).len as usize);
        let found = want
            .iter()
            .map(|w| {
                descs
                    .iter()
                    .find(|d| {
                        CStr::from_ptr(d.name)
                            .to_bytes()
                            .eq_ignore_ascii_case(w.as_bytes())
                    })
                    .map(|d| d.handle)
            })
            .collect();
        g_array_free(a, 1);
        found
    };
    let Some(handles) = handles.into_iter().collect::<Option<Vec<_>>>() else {
        say(&format!(
            "this QEMU's {} vCPU lacks one of the registers {} for plugins",
            cfg.target,
            want.join(", ")
        ));
        std::process::exit(1);
    };
    let mut st = STATE.lock().unwrap();
    let st = st.as_mut().expect("installed");
    let v = vcpu as usize;
    if st.regs.len() <= v {
        st.regs.resize_with(v + 1, || None);
    }
    st.regs[v] = Some(Regs {
        handles,
        // SAFETY: a new glib array, kept for the plugin's life.
        buf: unsafe { g_byte_array_new() },
    });
}

extern "C" fn tb_trans(_id: PluginId, tb: *mut Tb) {
    let Some(cfg) = CONFIG.get() else { return };
    // SAFETY: `tb` and its instructions are valid during this callback.
    unsafe {
        for i in 0..qemu_plugin_tb_n_insns(tb) {
            let insn = qemu_plugin_tb_get_insn(tb, i);
            if let Some(&f) = cfg.symbols.starts.get(&qemu_plugin_insn_vaddr(insn)) {
                qemu_plugin_register_vcpu_insn_exec_cb(
                    insn,
                    on_entry,
                    CB_R_REGS,
                    f as usize as *mut c_void,
                );
            }
        }
    }
}

/// `len` bytes of guest memory at `addr`, through the vCPU's current MMU.
fn read_mem(buf: *mut GByteArray, addr: u64, len: usize) -> Option<Vec<u8>> {
    // SAFETY: `buf` is our glib array; QEMU fills it.
    unsafe {
        g_byte_array_set_size(buf, 0);
        if !qemu_plugin_read_memory_vaddr(addr, buf, len) || ((*buf).len as usize) < len {
            return None;
        }
        Some(std::slice::from_raw_parts((*buf).data, len).to_vec())
    }
}

/// The filename argument of the execve wrapper (`Arch::execve_path`), a
/// user string, read up to each page's end.
fn exec_path(arch: &Arch, r: &Regs) -> Option<String> {
    let mut addr = arch.execve_path(r)?;
    let mut path = Vec::new();
    while path.len() < 4096 {
        let chunk = read_mem(r.buf, addr, (4096 - (addr & 4095)) as usize)?;
        if let Some(end) = chunk.iter().position(|&b| b == 0) {
            path.extend_from_slice(&chunk[..end]);
            return String::from_utf8(path).ok();
        }
        addr += chunk.len() as u64;
        path.extend_from_slice(&chunk);
    }
    None
}

fn read_reg(handle: *mut c_void, buf: *mut GByteArray) -> Option<u64> {
    // SAFETY: a handle from this vCPU's register list, our glib array.
    unsafe {
        g_byte_array_set_size(buf, 0);
        if qemu_plugin_read_register(handle, buf) != 8 {
            return None;
        }
        Some(u64::from_le_bytes(
            std::slice::from_raw_parts((*buf).data, 8).try_into().ok()?,
        ))
    }
}

extern "C" fn on_entry(vcpu: c_uint, userdata: *mut c_void) {
    let func = userdata as usize as u32;
    let Some(cfg) = CONFIG.get() else { return };
    if !ARMED.load(Ordering::Relaxed) {
        if cfg.execve != func {
            return;
        }
        ARMED.store(true, Ordering::Relaxed);
    }
    let mut st = STATE.lock().unwrap();
    let st = st.as_mut().expect("installed");
    let Some(Some(r)) = st.regs.get(vcpu as usize) else {
        return;
    };
    let Some(current) = cfg.arch.current(r) else {
        return;
    };
    st.rec
        .entry(vcpu, func, current, || exec_path(&cfg.arch, r));
}

extern "C" fn at_exit(_id: PluginId, _: *mut c_void) {
    let (Some(cfg), Some(st)) = (CONFIG.get(), STATE.lock().unwrap().take()) else {
        return;
    };
    for (n, r) in st.rec.records.iter().enumerate() {
        let file = cfg.out.join(format!("exec-{}.gt", n + 1));
        if let Err(e) = std::fs::write(&file, st.rec.text(r, &cfg.symbols.names)) {
            say(&format!("{}: {e}", file.display()));
        }
    }
}
