use super::*;

fn values(pairs: &[(&str, &str)]) -> ConfigValues {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn expressions_under_a_config() {
    let v = values(&[("A", "y"), ("B", "n"), ("M", "m"), ("N", "32")]);
    let t = |s: &str| parse_expr(s).eval(&v);
    assert_eq!(t("defined(CONFIG_A)"), Some(true));
    assert_eq!(t("defined CONFIG_B"), Some(false));
    assert_eq!(
        t("IS_ENABLED(CONFIG_M) && !IS_BUILTIN(CONFIG_M)"),
        Some(true)
    );
    assert_eq!(t("defined(CONFIG_M)"), Some(false));
    assert_eq!(t("defined(CONFIG_M_MODULE)"), Some(true));
    assert_eq!(t("CONFIG_A && CONFIG_N"), Some(true));
    assert_eq!(t("CONFIG_ABSENT"), Some(false));
    assert_eq!(t("defined(__KERNEL__) && CONFIG_B"), Some(false));
    assert_eq!(t("defined(__KERNEL__) || CONFIG_A"), Some(true));
    assert_eq!(t("defined(__KERNEL__)"), None);
    assert_eq!(t("CONFIG_N > 16"), None);
    assert_eq!(t("__has_attribute(x) && IS_ENABLED(CONFIG_A)"), None);
    assert_eq!(t("0"), Some(false));
    assert_eq!(t("(CONFIG_A"), None);
    assert_eq!(
        parse_expr("CONFIG_N > 16 || defined(CONFIG_A_MODULE)").symbols(),
        ["A".to_string(), "N".to_string()].into()
    );
}

const SHMEM: &str = r#"/* a { comment */
#include "internal.h"
#ifdef CONFIG_SHMEM
static int shmem_fault(struct vm_fault *vmf)
{
	char *s = "}";
	return '{' == 0;
}
#else /* !CONFIG_SHMEM */
int shmem_fault(struct vm_fault *vmf) { return 0; }
#endif
struct file_operations ops = {
	.open = f,
};
#if defined(CONFIG_A) \
    && IS_ENABLED(CONFIG_B)
# include "membarrier.c"
#elif CONFIG_C
void __init __attribute__((cold)) both(void)
#endif
{
#ifdef CONFIG_D
	x();
#endif
	if (IS_ENABLED(CONFIG_E)) {
		y();
	}
}
SYSCALL_DEFINE2(membarrier, int, cmd, unsigned int, flags)
{
}
"#;

#[test]
fn definitions_and_includes_with_their_branches() {
    let s = scan(SHMEM);
    let names: Vec<&str> = s.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "shmem_fault",
            "shmem_fault",
            "both",
            "__arm64_sys_membarrier",
            "__x64_sys_membarrier",
            "__se_sys_membarrier",
            "__do_sys_membarrier",
            "sys_membarrier"
        ]
    );
    let f = &s.functions[0];
    assert_eq!(f.line, 5);
    assert_eq!(f.frames.len(), 1);
    assert_eq!(f.frames[0].directive, "#ifdef CONFIG_SHMEM");
    let g = &s.functions[1];
    assert_eq!(g.frames[0].directive, "#else of #ifdef CONFIG_SHMEM");
    let on = values(&[("SHMEM", "y")]);
    let off = values(&[("SHMEM", "n")]);
    assert_eq!(f.frames[0].cond.eval(&on), Some(true));
    assert_eq!(f.frames[0].cond.eval(&off), Some(false));
    assert_eq!(g.frames[0].cond.eval(&off), Some(true));
    let both = &s.functions[2];
    assert_eq!(both.line, 21);
    assert_eq!(both.frames, []);
    assert_eq!(both.body_symbols, ["D".to_string(), "E".to_string()].into());
    assert_eq!(s.includes.len(), 2);
    assert_eq!(s.includes[0].path, "internal.h");
    assert_eq!(s.includes[0].frames, []);
    let m = &s.includes[1];
    assert_eq!((m.path.as_str(), m.line), ("membarrier.c", 17));
    assert_eq!(
        m.frames[0].directive,
        "#if defined(CONFIG_A) && IS_ENABLED(CONFIG_B)"
    );
    assert_eq!(
        m.frames[0].cond.eval(&values(&[("A", "y"), ("B", "y")])),
        Some(true)
    );
    assert_eq!(s.functions[3].frames, []);
}

#[test]
fn unbalanced_branches_keep_the_depth_of_the_first() {
    let text = "void f(void)\n{\n#ifdef CONFIG_A\n\tif (a) {\n#else\n\tif (b) {\n#endif\n\t}\n}\nvoid g(void)\n{\n}\n";
    let s = scan(text);
    let names: Vec<&str> = s.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["f", "g"]);
    assert_eq!(s.functions[0].body_symbols, ["A".to_string()].into());
}
