//! The map's phase rules for ground-truth entries.
use super::*;

#[test]
fn a_blind_spot_runs_where_its_traced_neighbours_agree() {
    let (run_p, run_h) = (
        cell_bit(Phase::Run, Context::Process),
        cell_bit(Phase::Run, Context::Hardirq),
    );
    let unknown = cell_bit(Phase::Run, Context::Unknown);
    assert_eq!(
        blind_cell(Some(run_p), Some(run_p | run_h), Phase::Run),
        run_p
    );
    assert_eq!(blind_cell(Some(run_p), Some(run_h), Phase::Run), unknown);
    assert_eq!(blind_cell(None, Some(run_h), Phase::Run), run_h);
    assert_eq!(blind_cell(None, None, Phase::Run), unknown);
    // A neighbour's cells in another phase do not count.
    let exec_p = cell_bit(Phase::Exec, Context::Process);
    assert_eq!(blind_cell(Some(exec_p), Some(exec_p), Phase::Run), unknown);
}

#[test]
fn ground_truth_entries_get_the_record_phases() {
    let r = groundtruth::parse(
        "# gt.version: 1\nu el0t_64_sync\nk x\nu el0t_64_irq\nk y\nu el0t_64_sync\nk do_exit\n",
    )
    .unwrap();
    use Phase::{Exec, Exit, Run};
    assert_eq!(groundtruth::phases(&r), [Exec, Exec, Run, Run, Exit, Exit]);
}
