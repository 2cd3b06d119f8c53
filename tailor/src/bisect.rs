//! Finding the options a failing tailored kernel lacks: bisection over the
//! options the starting config has and the tailored one does not, one
//! kernel (build, boot, runs, comparison) per step.
//!
//! The candidates are in a fixed order. A step tries the options found so
//! far plus a prefix of the candidates. With all candidates the kernel is
//! (nearly) the starting one and must pass; with none it is the failing
//! tailored one. Binary search finds the shortest passing prefix: its last
//! candidate is needed (the prefix without it failed), so it is kept, the
//! candidates after it are dropped, and the search repeats on the ones
//! before it until the options kept pass on their own. Each option costs
//! about log2(candidates) steps. This assumes that adding options never
//! makes a passing kernel fail (monotonic), which holds for what the
//! tailor checks as long as the noise stays noise.

/// What one step's kernel did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub passed: bool,
    /// Why, in a few words: the boot's failure, the unexplained functions.
    pub note: String,
}

/// One kernel tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The options tried on top of the required ones: those found so far,
    /// then the prefix of the candidates.
    pub options: Vec<String>,
    pub outcome: Outcome,
}

/// An option the kernel needs, with the two steps that show it: without
/// it (the prefix before it) the kernel failed, with it it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub option: String,
    /// None: the tailored kernel itself, which the bisection started from.
    pub failed_without: Option<usize>,
    pub passed_with: usize,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Bisection {
    pub steps: Vec<Step>,
    pub found: Vec<Found>,
    /// False when even every candidate did not pass: no subset of them can
    /// help, and nothing is found.
    pub all_passed: bool,
}

impl Bisection {
    /// `SYMBOL<TAB>reason` lines for `tailor required --needs`.
    pub fn needs(&self) -> String {
        self.found
            .iter()
            .map(|f| {
                let without = match f.failed_without {
                    Some(i) => format!(
                        "step {} without it failed: {}",
                        i + 1,
                        self.steps[i].outcome.note
                    ),
                    None => "the tailored kernel without it failed".to_string(),
                };
                format!(
                    "{}\tbisected: {without}; step {} with it passed\n",
                    f.option,
                    f.passed_with + 1
                )
            })
            .collect()
    }
}

/// Bisects `candidates` with `try_kernel`, which builds and checks the
/// kernel of the required options plus those it is given. The tailored
/// kernel (no candidate) is known to fail and is not tried again. An error
/// of `try_kernel` (a build that broke, not a kernel that failed) stops
/// the bisection.
pub fn bisect<E>(
    candidates: &[String],
    try_kernel: &mut dyn FnMut(&[String]) -> Result<Outcome, E>,
) -> Result<Bisection, E> {
    let mut b = Bisection::default();
    let mut run = |b: &mut Bisection, options: Vec<String>| -> Result<(usize, bool), E> {
        let outcome = try_kernel(&options)?;
        let passed = outcome.passed;
        b.steps.push(Step { options, outcome });
        Ok((b.steps.len() - 1, passed))
    };
    let (mut passing, passed) = run(&mut b, candidates.to_vec())?;
    b.all_passed = passed;
    if !passed {
        return Ok(b);
    }
    let mut kept: Vec<String> = Vec::new();
    let mut cands = candidates;
    let with = |kept: &[String], prefix: &[String]| [kept, prefix].concat();
    // Invariant: kept + all of cands passes (step `passing`), kept alone
    // fails (step `failing`; None: the tailored kernel, not a step here).
    let mut failing: Option<usize> = None;
    while !cands.is_empty() {
        let (mut lo, mut hi) = (0, cands.len());
        let mut failed_at = failing;
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            let (i, ok) = run(&mut b, with(&kept, &cands[..mid]))?;
            if ok {
                (hi, passing) = (mid, i);
            } else {
                (lo, failed_at) = (mid, Some(i));
            }
        }
        let option = cands[hi - 1].clone();
        kept.push(option.clone());
        cands = &cands[..hi - 1];
        b.found.push(Found {
            option,
            failed_without: failed_at,
            passed_with: passing,
        });
        if cands.is_empty() {
            break;
        }
        let (i, ok) = run(&mut b, kept.clone())?;
        if ok {
            break;
        }
        failing = Some(i);
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    /// A fake kernel: it passes when it has every option of `needed`; the
    /// steps it was asked for are counted.
    fn fake(needed: &[&str], candidates: &[&str]) -> (Bisection, usize) {
        let mut tries = 0;
        let b = bisect::<()>(&names(candidates), &mut |opts: &[String]| {
            tries += 1;
            let missing: Vec<&str> = needed
                .iter()
                .copied()
                .filter(|n| !opts.iter().any(|o| o == n))
                .collect();
            Ok(Outcome {
                passed: missing.is_empty(),
                note: format!("lacks {}", missing.join(" ")),
            })
        })
        .unwrap();
        (b, tries)
    }

    fn found(b: &Bisection) -> Vec<&str> {
        b.found.iter().map(|f| f.option.as_str()).collect()
    }

    const SIXTEEN: [&str; 16] = [
        "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P",
    ];

    #[test]
    fn one_needed_option_in_log2_steps_with_its_evidence() {
        let (b, tries) = fake(&["BINFMT_ELF"], &["AIO", "BINFMT_ELF", "FUTEX", "SHMEM"]);
        assert!(b.all_passed);
        assert_eq!(found(&b), ["BINFMT_ELF"]);
        // All four, prefixes of 2 (passes) and 1 (fails), then the option
        // found alone (passes: nothing else is needed).
        assert_eq!(tries, 4);
        assert_eq!(b.steps[3].options, ["BINFMT_ELF"]);
        assert!(b.steps[3].outcome.passed);
        assert_eq!(b.steps[1].options, ["AIO", "BINFMT_ELF"]);
        assert_eq!(b.steps[2].options, ["AIO"]);
        let f = &b.found[0];
        assert_eq!((f.failed_without, f.passed_with), (Some(2), 1));
        assert_eq!(
            b.needs(),
            "BINFMT_ELF\tbisected: step 3 without it failed: lacks BINFMT_ELF; step 2 with it passed\n"
        );
        let (b, tries) = fake(&["P"], &SIXTEEN);
        assert_eq!((found(&b), tries), (vec!["P"], 1 + 4 + 1));
    }

    #[test]
    fn several_needed_options_each_found_once() {
        let (b, tries) = fake(&["C", "K", "N"], &SIXTEEN);
        assert_eq!(found(&b), ["N", "K", "C"]);
        // The last step passes with exactly the options found.
        let last = b.steps.last().unwrap();
        assert!(last.outcome.passed);
        assert_eq!(last.options, ["N", "K", "C"]);
        assert!(tries <= 1 + 3 * (4 + 1), "{tries}");
        for f in &b.found {
            let without = &b.steps[f.failed_without.unwrap()];
            assert!(!without.outcome.passed && !without.options.contains(&f.option));
            let with = &b.steps[f.passed_with];
            assert!(with.outcome.passed && with.options.contains(&f.option));
        }
    }

    #[test]
    fn the_first_candidate_is_shown_by_the_tailored_kernel_itself() {
        let (b, tries) = fake(&["A"], &["A", "B"]);
        assert_eq!(found(&b), ["A"]);
        assert_eq!(b.found[0].failed_without, None);
        assert_eq!(tries, 2);
        assert!(b
            .needs()
            .starts_with("A\tbisected: the tailored kernel without it failed; step 2"));
    }

    #[test]
    fn nothing_found_when_every_candidate_is_not_enough() {
        let (b, tries) = fake(&["NOT_A_CANDIDATE"], &["A", "B"]);
        assert!(!b.all_passed);
        assert!(b.found.is_empty() && b.needs().is_empty());
        assert_eq!(tries, 1);
    }

    #[test]
    fn an_error_of_a_step_stops_it() {
        let mut n = 0;
        let r = bisect(&names(&SIXTEEN), &mut |_: &[String]| {
            n += 1;
            if n == 2 {
                Err("build failed")
            } else {
                Ok(Outcome {
                    passed: true,
                    note: String::new(),
                })
            }
        });
        assert_eq!(r, Err("build failed"));
        assert_eq!(n, 2);
    }
}
