//! Measures the two orientation detectors against each other: every scanned page of the given
//! files, turned to each of 0/90/180/270 degrees, through the own ink test and Tesseract's OSD.
//! Prints accuracy and time per page for each. Run by `scripts/bench-preprocess`.
//!
//!     cargo run --release --example orientation -- FILE...
//!
//! A page's true orientation is taken as what both agree on at 0 degrees turned; pages where they
//! disagree at 0 are counted apart.

use std::time::Instant;

use chartscan::config::{Config, OcrConfig};
use chartscan::decode::{self, Limits};
use chartscan::model::PageContent;
use chartscan::ocr::{OcrEngine, TesseractEngine};
use chartscan::preprocess;

fn main() -> anyhow::Result<()> {
    let config = Config::default();
    let limits = Limits::from_config(&config);
    let mut osd = TesseractEngine::new(&OcrConfig::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (mut own_right, mut osd_right, mut own_unsure, mut total, mut disagree) = (0, 0, 0, 0, 0);
    let (mut own_time, mut osd_time) = (0f64, 0f64);
    for path in std::env::args().skip(1) {
        let bytes: std::sync::Arc<[u8]> = std::fs::read(&path)?.into();
        let Ok(opened) = decode::open(bytes, &limits) else {
            continue;
        };
        for idx in 0..opened.n_pages() {
            let Ok(PageContent::Bitmap(bitmap)) = opened.page(idx) else {
                continue;
            };
            let dpi = bitmap.dpi.unwrap_or(300);
            // The page's own orientation, by agreement.
            let own_full = preprocess::own_orientation(&bitmap.image);
            let own0 = own_full.map(|o| o.rotate_cw);
            let osd_full = osd.orientation(&bitmap.image, dpi);
            let osd0 = osd_full.map(|o| o.rotate_cw);
            let Some(truth) = own0.filter(|o| Some(*o) == osd0) else {
                disagree += 1;
                eprintln!("{path} page {}: own {own_full:?} osd {osd_full:?}", idx + 1);
                continue;
            };
            for turn in [0u16, 90, 180, 270] {
                let image = preprocess::turn(&bitmap.image, turn);
                let want = (truth + 360 - turn) % 360;
                let started = Instant::now();
                let own = preprocess::own_orientation(&image);
                own_time += started.elapsed().as_secs_f64();
                let started = Instant::now();
                let by_osd = osd.orientation(&image, dpi);
                osd_time += started.elapsed().as_secs_f64();
                total += 1;
                match own {
                    Some(o) if o.confidence >= preprocess::OWN_SURE => {
                        own_right += (o.rotate_cw == want) as u32
                    }
                    _ => own_unsure += 1,
                }
                osd_right += by_osd.is_some_and(|o| o.rotate_cw == want) as u32;
            }
        }
    }
    println!("pages x 4 turns: {total} ({disagree} pages where the two disagree upright, left out)");
    println!(
        "own ink test   right {own_right}, unsure {own_unsure}, wrong {}   {:.1} ms/page",
        total - own_right - own_unsure,
        own_time * 1000.0 / total.max(1) as f64
    );
    println!(
        "tesseract OSD  right {osd_right}, wrong or none {}   {:.1} ms/page",
        total - osd_right,
        osd_time * 1000.0 / total.max(1) as f64
    );
    Ok(())
}
