//! What a filter selects of the target's record: its functions and edges
//! by display name, and the difference of two such selections.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::analyze::{Acc, Analysis, Edge};
use crate::model::{cell_bit, Selection, CONTEXTS, PHASES};
use crate::names::{normalize, NONE};

/// What to report: phase x context cells, callers only, normalised names.
#[derive(Clone, Copy, Debug)]
pub struct Filter {
    pub sel: Selection,
    pub callers_only: bool,
    pub normalize: bool,
}

impl Filter {
    pub fn describe(&self) -> String {
        let phases: Vec<_> = PHASES
            .iter()
            .filter(|&&p| {
                CONTEXTS
                    .iter()
                    .any(|&c| self.sel.mask & cell_bit(p, c) != 0)
            })
            .map(|p| p.name())
            .collect();
        let contexts: Vec<_> = CONTEXTS
            .iter()
            .filter(|&&c| PHASES.iter().any(|&p| self.sel.mask & cell_bit(p, c) != 0))
            .map(|c| c.name())
            .collect();
        let ctx = if contexts.len() == CONTEXTS.len() {
            "all contexts".to_string()
        } else {
            contexts.join(",")
        };
        format!("{}; {}", phases.join(","), ctx)
    }
}

pub type Name = Vec<u8>;

/// Functions and edges of the target under a filter, by display name.
#[derive(Clone, Debug, Default)]
pub struct Footprint {
    /// Name -> calls (as callee) in the selection; callers that are never
    /// callees have 0.
    pub funcs: BTreeMap<Name, u64>,
    pub edges: BTreeMap<(Name, Name), u64>,
    /// Names never seen as a callee anywhere in the trace.
    pub callers_only: BTreeSet<Name>,
}

/// The name of `id` as reported: normalised with `norm`.
pub fn display(an: &Analysis, id: u32, norm: bool) -> Name {
    let n = an.names.name(id);
    if norm {
        normalize(n).to_vec()
    } else {
        n.to_vec()
    }
}

pub fn footprint(an: &Analysis, f: &Filter) -> Footprint {
    an.acc
        .as_ref()
        .map_or_else(Footprint::default, |acc| footprint_of(an, acc, f))
}

/// The footprint of one task's record (or the tree's).
pub fn footprint_of(an: &Analysis, acc: &Acc, f: &Filter) -> Footprint {
    let mut fp = Footprint::default();
    let mut callee_names = HashSet::new();
    for id in 0..an.names.len() as u32 {
        if an.names.is_callee(id) {
            callee_names.insert(display(an, id, f.normalize));
        }
    }
    for (key, e) in &acc.edges {
        if e.mask() & f.sel.mask == 0 {
            continue;
        }
        let Edge { caller, callee } = *key;
        let n = e.count(f.sel.mask);
        let callee = display(an, callee, f.normalize);
        *fp.funcs.entry(callee.clone()).or_insert(0) += n;
        if caller != NONE {
            let caller = display(an, caller, f.normalize);
            fp.funcs.entry(caller.clone()).or_insert(0);
            if !callee_names.contains(&caller) {
                fp.callers_only.insert(caller.clone());
            }
            *fp.edges.entry((caller, callee)).or_insert(0) += n;
        }
    }
    if f.callers_only {
        fp.funcs.retain(|n, _| fp.callers_only.contains(n));
        let co = &fp.callers_only;
        fp.edges.retain(|(c, _), _| co.contains(c));
    }
    fp
}

/// Names and edges only in A, only in B, in both.
pub struct Diff {
    pub funcs: [Vec<Name>; 3],
    pub edges: [Vec<(Name, Name)>; 3],
}

pub fn diff(a: &Footprint, b: &Footprint) -> Diff {
    fn split<T: Ord + Clone>(a: BTreeSet<&T>, b: BTreeSet<&T>) -> [Vec<T>; 3] {
        [
            a.difference(&b).map(|&x| x.clone()).collect(),
            b.difference(&a).map(|&x| x.clone()).collect(),
            a.intersection(&b).map(|&x| x.clone()).collect(),
        ]
    }
    Diff {
        funcs: split(a.funcs.keys().collect(), b.funcs.keys().collect()),
        edges: split(a.edges.keys().collect(), b.edges.keys().collect()),
    }
}
