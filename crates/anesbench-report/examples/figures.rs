//! Draw every figure (SVG, PDF, PNG at two widths) for three synthetic runs and for the
//! published table:
//! `cargo run -p anesbench-report --example figures -- OUT_DIR`.

use anesbench_core::Lang;
use anesbench_report::fixture::{run_info, synthetic_records};
use anesbench_report::plots::{export_figure, FigureKind};
use anesbench_report::points::ModelPoint;
use anesbench_report::published::published;
use anesbench_report::rundir::write_run_dir;
use anesbench_report::{Report, RunDir};

fn main() {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "figures-example".into()),
    );
    std::fs::create_dir_all(&out).unwrap();
    let tmp = out.join("runs");
    let specs = [
        ("Qwen2.5-0.5B-Instruct", [40, 30, 20], 120),
        ("Qwen2.5-7B-Instruct", [60, 45, 35], 300),
        ("Llama-3.3-70B-Instruct", [75, 60, 50], 600),
    ];
    let runs: Vec<RunDir> = specs
        .iter()
        .enumerate()
        .map(|(i, (m, skill, t))| {
            let p = tmp.join(m);
            write_run_dir(
                &p,
                &run_info(m, None),
                &synthetic_records(
                    40,
                    *skill,
                    i as u32,
                    &[Lang::En, Lang::Zh],
                    [*t, t * 2, t * 3],
                ),
                true,
            )
            .unwrap();
            RunDir::open(&p).unwrap()
        })
        .collect();
    let report = Report::new(&runs, None);
    let pts: Vec<ModelPoint> = report.runs.iter().map(ModelPoint::from_run).collect();
    let published: Vec<ModelPoint> = published()
        .iter()
        .map(|e| ModelPoint::from_published(e, None))
        .collect();
    let runs_dir = out.join("runs-figures");
    let pub_dir = out.join("published-figures");
    std::fs::create_dir_all(&runs_dir).unwrap();
    std::fs::create_dir_all(&pub_dir).unwrap();
    for kind in FigureKind::ALL {
        export_figure(kind, &pts, &runs_dir).unwrap();
    }
    for kind in [FigureKind::Scale, FigureKind::Lang] {
        export_figure(kind, &published, &pub_dir).unwrap();
    }
    println!("{}", out.display());
}
