//! A synthetic corpus for benchmarks: Parquet files of `{id, text}` whose text lengths are
//! log-normal like web / PubMed documents (median ~800 characters, a long tail to tens of
//! thousands), written with snappy compression in row groups of a few thousand rows, as
//! the published corpus files are.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::error::DataError;

const WORDS: &[&str] = &[
    "patient",
    "anesthesia",
    "propofol",
    "sevoflurane",
    "airway",
    "intubation",
    "ventilation",
    "oxygen",
    "saturation",
    "blood",
    "pressure",
    "hypotension",
    "opioid",
    "fentanyl",
    "remifentanil",
    "ketamine",
    "dexmedetomidine",
    "rocuronium",
    "sugammadex",
    "neuromuscular",
    "block",
    "epidural",
    "spinal",
    "bupivacaine",
    "lidocaine",
    "regional",
    "nerve",
    "analgesia",
    "postoperative",
    "nausea",
    "vomiting",
    "cardiac",
    "output",
    "stroke",
    "volume",
    "preload",
    "afterload",
    "arterial",
    "venous",
    "catheter",
    "sepsis",
    "lactate",
    "fluid",
    "resuscitation",
    "transfusion",
    "hemoglobin",
    "platelet",
    "coagulation",
    "the",
    "of",
    "and",
    "in",
    "to",
    "a",
    "with",
    "was",
    "for",
    "were",
    "is",
    "on",
    "as",
    "by",
    "at",
    "after",
    "during",
    "before",
    "study",
    "trial",
    "randomized",
    "group",
    "control",
    "significant",
    "reduced",
    "increased",
    "compared",
    "outcome",
    "mortality",
    "risk",
    "incidence",
    "dose",
    "infusion",
    "bolus",
    "induction",
    "maintenance",
    "emergence",
    "recovery",
    "delirium",
    "elderly",
    "pediatric",
    "obstetric",
    "cesarean",
    "labor",
    "surgery",
    "laparoscopic",
    "cardiopulmonary",
    "bypass",
    "monitoring",
    "depth",
    "bispectral",
    "index",
    "temperature",
    "hypothermia",
    "malignant",
    "hyperthermia",
    "dantrolene",
];

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct SynthCorpus {
    pub files: Vec<PathBuf>,
    pub rows: u64,
    /// Bytes of text (UTF-8), the figure MB/s is computed on.
    pub text_bytes: u64,
}

/// Log-normal document length in characters: median 800, sigma 1.0, clamped to
/// [40, 60000].
fn doc_len(rng: &mut SmallRng) -> usize {
    // Box-Muller: one standard normal from two uniforms.
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (800.0 * z.exp()).clamp(40.0, 60_000.0) as usize
}

fn document(rng: &mut SmallRng, len: usize, out: &mut String) {
    out.clear();
    let mut sentence = 0;
    while out.len() < len {
        // Skewed choice: low indices (frequent words) come up more often.
        let r: f64 = rng.random();
        let w = WORDS[((r * r) * WORDS.len() as f64) as usize % WORDS.len()];
        if sentence == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push_str(w);
        }
        sentence += 1;
        if sentence > 8 && rng.random::<f64>() < 0.12 {
            out.push_str(". ");
            sentence = 0;
        } else {
            out.push(' ');
        }
    }
    out.truncate(out.trim_end().len());
    out.push('.');
}

/// Write about `total_bytes` of text in `files` Parquet files named
/// `SynthCorpus_en-0000i.parquet` under `dir`. `plant` texts are inserted as extra
/// sentences into rows spread over the corpus (to check decontamination finds them).
pub fn generate(
    dir: &Path,
    total_bytes: u64,
    files: usize,
    seed: u64,
    plant: &[String],
) -> Result<SynthCorpus, DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let files = files.max(1);
    let per_file = total_bytes / files as u64;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, false),
    ]));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_size(8192)
        .build();
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut doc = String::new();
    let (mut rows, mut text_bytes) = (0u64, 0u64);
    let mut paths = Vec::new();
    let mut planted = 0usize;
    for f in 0..files {
        let path = dir.join(format!("SynthCorpus_en-{f:05}.parquet"));
        let file = File::create(&path).map_err(|e| DataError::io(&path, e))?;
        let err =
            |e: parquet::errors::ParquetError| DataError::Other(format!("{}: {e}", path.display()));
        let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props.clone())).map_err(err)?;
        let mut written = 0u64;
        while written < per_file {
            let mut ids = Vec::with_capacity(1024);
            let mut texts = Vec::with_capacity(1024);
            for _ in 0..1024 {
                if written >= per_file {
                    break;
                }
                let len = doc_len(&mut rng);
                document(&mut rng, len, &mut doc);
                // Plant one text per file, in the file's first batch, while any are left.
                if planted < plant.len() && texts.len() == 500 && f * plant.len() / files <= planted
                {
                    doc.push(' ');
                    doc.push_str(&plant[planted]);
                    planted += 1;
                }
                written += doc.len() as u64;
                ids.push(rows as i64);
                texts.push(doc.clone());
                rows += 1;
            }
            text_bytes += texts.iter().map(|t| t.len() as u64).sum::<u64>();
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(ids)),
                    Arc::new(StringArray::from(texts)),
                ],
            )
            .map_err(|e| DataError::Other(e.to_string()))?;
            w.write(&batch).map_err(err)?;
        }
        w.close().map_err(err)?;
        paths.push(path);
    }
    Ok(SynthCorpus {
        files: paths,
        rows,
        text_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_long_tailed_around_the_median() {
        let mut rng = SmallRng::seed_from_u64(7);
        let mut v: Vec<usize> = (0..20_000).map(|_| doc_len(&mut rng)).collect();
        v.sort_unstable();
        let median = v[v.len() / 2];
        assert!((650..1000).contains(&median), "median {median}");
        assert!(v[v.len() * 99 / 100] > 5 * median, "tail too short");
    }
}
