//! A snapshot of the system settings a tracing run may touch, written before
//! and after every run so the host can check the launcher restored them.

use std::fs;
use std::path::Path;

/// tracefs files that are settings (not data) and exist on a kernel with the
/// function tracers.
const TRACEFS_FILES: &[&str] = &[
    "current_tracer",
    "tracing_on",
    "tracing_cpumask",
    "tracing_thresh",
    "buffer_size_kb",
    "trace_clock",
    "trace_options",
    "set_ftrace_pid",
    "set_ftrace_notrace_pid",
    "set_event_pid",
    "set_event_notrace_pid",
    "events/sched/sched_process_fork/enable",
    "events/sched/sched_process_exit/enable",
    "events/sched/sched_process_exec/enable",
    "set_ftrace_filter",
    "set_ftrace_notrace",
    "set_graph_function",
    "set_graph_notrace",
    "max_graph_depth",
    "function_profile_enabled",
];

/// `key: value` lines, sorted, newlines in values written as `\n`; a file
/// that exists but cannot be read shows as `<unreadable: ...>`.
pub fn snapshot(tracefs: &Path, proc: &Path, sys: &Path) -> String {
    let mut lines = Vec::new();
    let mut add = |key: String, path: &Path| {
        let value = match fs::read(path) {
            Ok(v) => String::from_utf8_lossy(&v).trim_end().replace('\n', "\\n"),
            Err(e) => format!("<unreadable: {e}>"),
        };
        lines.push(format!("{key}: {value}"));
    };
    for f in TRACEFS_FILES {
        let path = tracefs.join(f);
        if path.exists() {
            add(format!("tracefs/{f}"), &path);
        }
    }
    for (dir, prefix) in [
        (tracefs.join("options"), "tracefs/options/".to_string()),
        (proc.join("irq"), "irq/".to_string()),
        (
            sys.join("devices/system/cpu"),
            "sys/devices/system/cpu/".to_string(),
        ),
    ] {
        for name in sorted_entries(&dir) {
            let path = dir.join(&name);
            if prefix == "irq/" {
                for f in ["smp_affinity", "smp_affinity_list"] {
                    if path.join(f).exists() {
                        add(format!("{prefix}{name}/{f}"), &path.join(f));
                    }
                }
                if name == "default_smp_affinity" {
                    add(format!("{prefix}{name}"), &path);
                }
            } else if prefix.starts_with("sys/") {
                // CPU hotplug state: a launcher must not leave a CPU offline.
                if name.starts_with("cpu") && path.join("online").exists() {
                    add(format!("{prefix}{name}/online"), &path.join("online"));
                }
            } else {
                add(format!("{prefix}{name}"), &path);
            }
        }
    }
    for f in [
        "sys/kernel/ftrace_enabled",
        "sys/kernel/sched_rt_runtime_us",
    ] {
        let path = proc.join(f);
        if path.exists() {
            add(format!("proc/{f}"), &path);
        }
    }
    lines.sort();
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn sorted_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(root: &Path, rel: &str, value: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, value).unwrap();
    }

    #[test]
    fn snapshots_settings_and_nothing_else() {
        let root = std::env::temp_dir().join(format!("guest_init-state-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let (t, p, s) = (root.join("t"), root.join("p"), root.join("s"));
        put(&t, "current_tracer", "nop\n");
        put(&t, "set_ftrace_filter", "#### all functions enabled ####\n");
        put(&t, "trace", "# tracer: nop\n");
        put(&t, "options/funcgraph-proc", "0\n");
        put(&p, "irq/11/smp_affinity", "3\n");
        put(&p, "irq/11/smp_affinity_list", "0-1\n");
        put(&p, "irq/11/spurious", "count 0\n");
        put(&p, "irq/default_smp_affinity", "3\n");
        put(&p, "sys/kernel/ftrace_enabled", "1\n");
        put(&s, "devices/system/cpu/cpu1/online", "1\n");
        put(&s, "devices/system/cpu/cpufreq/x", "1\n");
        let snap = snapshot(&t, &p, &s);
        assert_eq!(
            snap,
            "irq/11/smp_affinity: 3\n\
             irq/11/smp_affinity_list: 0-1\n\
             irq/default_smp_affinity: 3\n\
             proc/sys/kernel/ftrace_enabled: 1\n\
             sys/devices/system/cpu/cpu1/online: 1\n\
             tracefs/current_tracer: nop\n\
             tracefs/options/funcgraph-proc: 0\n\
             tracefs/set_ftrace_filter: #### all functions enabled ####\n"
        );
        put(&p, "irq/11/smp_affinity", "1\n");
        assert_ne!(snapshot(&t, &p, &s), snap);
        fs::remove_dir_all(&root).unwrap();
    }
}
