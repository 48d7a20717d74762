//! Draw every figure for three synthetic runs and for the published table:
//! `cargo run -p anesbench-report --example figures -- OUT_DIR`.

use anesbench_core::Lang;
use anesbench_report::fixture::{run_info, synthetic_records};
use anesbench_report::plots::{render_to_file, FigureKind};
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
    for kind in FigureKind::ALL {
        for ext in ["svg", "png"] {
            render_to_file(kind, &pts, &out.join(format!("runs-{}.{ext}", kind.id()))).unwrap();
        }
    }
    for kind in [FigureKind::Scale, FigureKind::Lang] {
        render_to_file(
            kind,
            &published,
            &out.join(format!("published-{}.png", kind.id())),
        )
        .unwrap();
    }
    println!("{}", out.display());
}
