//! What `gov eval --history`, the metrics formats and `gov report` share:
//! a scoped audit, its history record, the replayed history and the metrics.

use std::path::Path;

use gov::eval::{Audit, AuditOptions, scan_scoped};
use gov::graph::Graph;
use gov::history::{self, History, Run, Timeline};
use gov::ir::Program;
use gov::metrics::{self, Catalogue, Metrics};

use super::output::{Exit, Output};

/// An audit with everything the posture views read.
pub struct Posture {
    pub audit: Audit,
    pub metrics: Metrics,
    pub timeline: Timeline,
    /// Runs recorded before this one (0 without a history).
    pub previous_runs: usize,
}

/// Audits, reads the history in `history_dir` (if any), records this run
/// there, and computes the metrics. The run is recorded before anything is
/// printed, so a refused run (a clock going backwards) prints no report.
pub fn build(
    program: &Program,
    graph: &Graph,
    options: &AuditOptions,
    history_dir: Option<&Path>,
    out: &Output,
) -> Result<Posture, Exit> {
    let scan = scan_scoped(program, graph, options);
    let scopes = scan.scopes();
    let mut audit = scan.into_audit();
    let catalogue = Catalogue::of(program, graph);
    let run = Run::from_audit(&audit, &scopes, &|s| catalogue.tier(s));
    let past = match history_dir {
        Some(dir) => {
            let h = History::open(dir).map_err(|d| {
                out.diagnostics(&d.into());
                Exit::Io
            })?;
            if !h.diagnostics().is_empty() {
                out.diagnostics(h.diagnostics());
            }
            history::record(dir, &run).map_err(|d| {
                let exit =
                    if d.code == gov::Code::HistoryClockBackwards { Exit::Usage } else { Exit::Io };
                out.diagnostics(&d.into());
                exit
            })?;
            h
        }
        None => History::default(),
    };
    let timeline = Timeline::replay(past.runs().iter().chain([&run]));
    timeline.apply_due(&mut audit);
    let metrics = metrics::compute(&metrics::Inputs {
        audit: &audit,
        run: &run,
        timeline: &timeline,
        catalogue: &catalogue,
    });
    Ok(Posture { audit, metrics, timeline, previous_runs: past.runs().len() })
}
