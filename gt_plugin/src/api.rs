//! The few declarations of QEMU's plugin API (`qemu-plugin.h`, API version
//! 4, QEMU 9.2-10.0) and of glib that this plugin uses. QEMU resolves them
//! when it loads the plugin.

use std::ffi::{c_char, c_int, c_uint, c_void};

pub type PluginId = u64;

/// `qemu_info_t`: only the leading fields are read.
#[repr(C)]
pub struct Info {
    pub target_name: *const c_char,
    pub version_min: c_int,
    pub version_cur: c_int,
    pub system_emulation: bool,
}

#[repr(C)]
pub struct GArray {
    pub data: *mut c_char,
    pub len: c_uint,
}

#[repr(C)]
pub struct GByteArray {
    pub data: *mut u8,
    pub len: c_uint,
}

#[repr(C)]
pub struct RegDescriptor {
    pub handle: *mut c_void,
    pub name: *const c_char,
    pub feature: *const c_char,
}

pub enum Tb {}
pub enum Insn {}

/// `QEMU_PLUGIN_CB_R_REGS`.
pub const CB_R_REGS: c_int = 1;

pub type VcpuUdataCb = extern "C" fn(vcpu: c_uint, userdata: *mut c_void);

extern "C" {
    pub fn qemu_plugin_register_vcpu_init_cb(id: PluginId, cb: extern "C" fn(PluginId, c_uint));
    pub fn qemu_plugin_register_vcpu_tb_trans_cb(
        id: PluginId,
        cb: extern "C" fn(PluginId, *mut Tb),
    );
    pub fn qemu_plugin_register_atexit_cb(
        id: PluginId,
        cb: extern "C" fn(PluginId, *mut c_void),
        userdata: *mut c_void,
    );
    pub fn qemu_plugin_register_vcpu_insn_exec_cb(
        insn: *mut Insn,
        cb: VcpuUdataCb,
        flags: c_int,
        userdata: *mut c_void,
    );
    pub fn qemu_plugin_tb_n_insns(tb: *const Tb) -> usize;
    pub fn qemu_plugin_tb_get_insn(tb: *const Tb, idx: usize) -> *mut Insn;
    pub fn qemu_plugin_insn_vaddr(insn: *const Insn) -> u64;
    pub fn qemu_plugin_get_registers() -> *mut GArray;
    pub fn qemu_plugin_read_register(handle: *mut c_void, buf: *mut GByteArray) -> c_int;
    pub fn qemu_plugin_read_memory_vaddr(addr: u64, data: *mut GByteArray, len: usize) -> bool;
    pub fn qemu_plugin_outs(s: *const c_char);

    pub fn g_byte_array_new() -> *mut GByteArray;
    pub fn g_byte_array_set_size(a: *mut GByteArray, len: c_uint) -> *mut GByteArray;
    pub fn g_array_free(a: *mut GArray, free_segment: c_int) -> *mut c_char;
}
