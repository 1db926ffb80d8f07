//! Page clean-up before OCR: pure functions on gray bitmaps.
//!
//! In order: pages far above the target resolution are scaled down first (everything after is
//! cheaper); faint and unevenly lit pages get their background flattened and their ink
//! darkened; blank pages (duplex back sides) are recognised and not OCRed; the page is turned
//! upright (the orientation detector is passed in, so this module stays free of the engine);
//! the skew is measured and, when it is large enough to matter, undone; a page with no usable
//! resolution gets one estimated from its text lines; pages below the minimum resolution are
//! scaled up. Each step reports what it measured, and each can be turned off.
//!
//! No step binarizes: Tesseract thresholds the page itself (Otsu), and measured on the dev
//! corpus a binarized page read worse than the normalised gray one.

use image::GrayImage;
use image::imageops::FilterType;

use crate::config::PreprocessConfig;
use crate::ocr::Orientation;

/// A page ready for OCR and what was done to it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub image: GrayImage,
    /// The resolution of `image` (after scaling).
    pub dpi: u32,
    /// The source's resolution was missing or unusable and was estimated from text height.
    pub dpi_estimated: bool,
    /// Clockwise degrees the page was turned to be upright: 0, 90, 180, 270.
    pub rotation: u16,
    /// Measured skew in degrees (positive: lines fall to the right), whether or not undone.
    pub skew: f32,
    /// Background flattened or ink darkened.
    pub normalized: bool,
    /// No content: not to be OCRed.
    pub blank: bool,
    /// Scanner streaks found on the page (and mended as far as they can be), where they run
    /// across `image`: the letters they cut may be misread.
    pub streaks: Vec<Streak>,
}

/// A scanner streak as a straight line over the prepared page: `x = at + slope * y` down the
/// page, or `y = at + slope * x` across it (a page turned a quarter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Streak {
    pub across: bool,
    pub at: f32,
    pub slope: f32,
}

impl Streak {
    /// The streak passes through the box `[left, top, right, bottom]` (give or take its width).
    pub fn crosses(&self, [left, top, right, bottom]: [u32; 4]) -> bool {
        let (along, from, to) = if self.across {
            ((left + right) as f32 / 2.0, top as f32, bottom as f32)
        } else {
            ((top + bottom) as f32 / 2.0, left as f32, right as f32)
        };
        let at = self.at + self.slope * along;
        (from - STREAK_MARGIN..=to + STREAK_MARGIN).contains(&at)
    }
}

/// Pixels either side of a streak's middle that it may cover.
const STREAK_MARGIN: f32 = 2.0;

/// Where streaks found at columns `columns` of a page `width` x `height` end up once the page
/// is turned clockwise by `rotation`, unskewed by `skew` degrees (0: not) and scaled by `scale`.
fn streak_lines(
    columns: &[f32],
    (width, height): (u32, u32),
    rotation: u16,
    skew: f32,
    scale: f32,
) -> Vec<Streak> {
    let (w, h) = (width as f32, height as f32);
    // The turned page's size, for the unskew's centre.
    let (tw, th) = if rotation % 180 == 90 { (h, w) } else { (w, h) };
    let radians = skew.to_radians();
    columns
        .iter()
        .map(|&x| {
            // Turned (as `Sample::turned`: 90 takes (x, y) to (h - 1 - y, x)).
            let (across, at) = match rotation {
                90 => (true, x),
                180 => (false, w - 1.0 - x),
                270 => (true, w - 1.0 - x),
                _ => (false, x),
            };
            // Unskewed: the shears move a column by -(y - cy) sin and a row by -(x - cx) tan.
            let (at, slope) = match across {
                false => (at + th / 2.0 * radians.sin(), -radians.sin()),
                true => (at + tw / 2.0 * radians.tan(), -radians.tan()),
            };
            Streak {
                across,
                at: at * scale,
                slope,
            }
        })
        .collect()
}

/// The long side of the largest paper a records office scans (ledger, 11 x 17 in), with room.
const MAX_PAGE_INCHES: f32 = 20.0;

/// Resolution assumed while estimating, and for pages too small to estimate from.
const ASSUMED_DPI: u32 = 300;

/// The orientation test looks for text lines within ±10 degrees.
const ORIENTATION_SKEW_LIMIT: f32 = 10.0;

/// The own orientation test's confidence (same scale as Tesseract's OSD margin) above which the
/// engine is not asked.
pub const OWN_SURE: f32 = 4.0;

/// Runs the enabled steps over one page. `detect` tells which way the page's text runs.
pub fn prepare(
    image: GrayImage,
    dpi: Option<u32>,
    config: &PreprocessConfig,
    detect: &mut dyn FnMut(&GrayImage, u32) -> Option<Orientation>,
) -> Prepared {
    // A declared resolution is usable only if it gives the page a paper size: image
    // extractors often stamp 72 dpi on a 300 dpi scan, which would make a letter page three
    // feet tall (and scaling it "up" to 300 dpi would make OCR crawl).
    let long_side = image.width().max(image.height()) as f32;
    let usable = dpi.filter(|&d| (50..=2400).contains(&d) && long_side / d as f32 <= MAX_PAGE_INCHES);
    let mut page = Prepared {
        image,
        dpi: usable.unwrap_or(ASSUMED_DPI),
        dpi_estimated: false,
        rotation: 0,
        skew: 0.0,
        normalized: false,
        blank: false,
        streaks: Vec::new(),
    };
    if config.resolution && usable.is_some() && page.dpi > config.max_dpi {
        rescale(&mut page, config.target_dpi);
    }
    // The paper's own texture, which flattening the background wipes out, tells a white streak
    // on a gray scan.
    let scanned = (config.streaks && config.contrast).then(|| page.image.clone());
    if config.contrast {
        page.normalized = normalize_contrast(&mut page.image);
    }
    let streak_columns = if config.streaks {
        find_streaks(
            &mut page.image,
            scanned.as_ref().filter(|_| page.normalized),
            page.dpi,
        )
    } else {
        Vec::new()
    };
    let streaked_size = page.image.dimensions();
    if config.blank_pages && is_blank(&page.image, config.blank_ink_permille) {
        page.blank = true;
        return page;
    }
    let mut sample = Sample::of(&page.image);
    // The skew the orientation test measured, when it holds for the page as it ends up.
    let mut measured_skew = None;
    if config.orientation {
        let own = sample.orientation();
        let found = match own {
            Some(own) if own.found.confidence >= OWN_SURE => Some(own.found),
            // Not sure (little text, a table, a form): ask the engine, and where the two
            // disagree leave the page as it is (on the dev corpus every such page was upright;
            // the engine is sometimes confidently wrong on faint or sparse pages).
            own => detect(&page.image, page.dpi)
                .filter(|osd| own.is_none_or(|own| own.found.rotate_cw == osd.rotate_cw)),
        };
        if let Some(found) = found
            && found.rotate_cw != 0
            && found.confidence >= config.orientation_min_confidence
        {
            page.image = turn(&page.image, found.rotate_cw);
            page.rotation = found.rotate_cw;
            sample = sample.turned(found.rotate_cw);
        }
        // Turning a half turn keeps the lines' slope: the test's measure holds when the page
        // was turned as the test said, give or take a half turn.
        measured_skew = own
            .filter(|own| own.found.rotate_cw % 180 == page.rotation % 180)
            .filter(|_| config.max_skew_degrees == ORIENTATION_SKEW_LIMIT)
            .map(|own| own.skew);
    }
    let mut unskewed = 0.0;
    if config.deskew {
        page.skew = measured_skew.unwrap_or_else(|| sample.skew(config.max_skew_degrees));
        if page.skew.abs() >= config.min_skew_degrees {
            page.image = unskew(&page.image, page.skew);
            unskewed = page.skew;
        }
    }
    let width_before = page.image.width();
    if config.resolution {
        if usable.is_none()
            && let Some(estimated) = sample.estimate_dpi()
        {
            page.dpi = estimated;
            page.dpi_estimated = true;
        }
        // Too coarse to read well, or (estimated) far finer than needed.
        if page.dpi < config.min_dpi || (page.dpi_estimated && page.dpi > config.max_dpi) {
            rescale(&mut page, config.target_dpi);
        }
    }
    let scale = page.image.width() as f32 / width_before as f32;
    page.streaks = streak_lines(&streak_columns, streaked_size, page.rotation, unskewed, scale);
    if !page.streaks.is_empty() {
        tracing::debug!(streaks = page.streaks.len(), "scanner streaks");
    }
    page
}

/// Undoes a small skew (lines falling to the right by `degrees`) with two shears: columns
/// shifted up or down to level the lines, then rows shifted sideways to stand the letters up
/// again. Each shift is interpolated between the two nearest pixels: whole-pixel shifts left a
/// one-pixel jog in every letter crossing a step (at 1 degree, every 57 pixels), which Tesseract
/// misread (`open` as `oo9en`). Still a fraction of the cost of a general rotation, and for angles
/// within 10 degrees the difference in scale is below a pixel's worth.
fn unskew(image: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = image.dimensions();
    let (w_us, h_us) = (w as usize, h as usize);
    let radians = degrees.to_radians();
    let (tan, sin) = (radians.tan(), radians.sin());
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    // A fractional shift as a whole part and a weight (0..=256) of the next pixel.
    let split = |shift: f32| {
        let whole = shift.floor();
        (whole as i64, ((shift - whole) * 256.0).round() as u16)
    };
    let blank = vec![255u8; w_us];
    // Vertical shear: output (x, y) takes input (x, y + (x - cx) * tan). Columns with the same
    // whole shift form runs, over which two whole source rows are blended slice by slice.
    let src = image.as_raw();
    let source_row = |y: i64| -> &[u8] {
        if (0..h as i64).contains(&y) {
            &src[y as usize * w_us..(y as usize + 1) * w_us]
        } else {
            &blank
        }
    };
    let columns: Vec<(i64, u16)> = (0..w_us).map(|x| split((x as f32 - cx) * tan)).collect();
    let mut runs: Vec<(usize, usize, i64)> = Vec::new();
    for (x, &(shift, _)) in columns.iter().enumerate() {
        match runs.last_mut() {
            Some((_, end, run_shift)) if *run_shift == shift => *end = x + 1,
            _ => runs.push((x, x + 1, shift)),
        }
    }
    let weights: Vec<u16> = columns.iter().map(|&(_, weight)| weight).collect();
    let mut levelled = vec![255u8; w_us * h_us];
    for (y, row) in levelled.chunks_exact_mut(w_us).enumerate() {
        for &(from, to, shift) in &runs {
            let (upper, lower) = (source_row(y as i64 + shift), source_row(y as i64 + shift + 1));
            blend_into(
                &mut row[from..to],
                &upper[from..to],
                &lower[from..to],
                &weights[from..to],
            );
        }
    }
    // Horizontal shear: output (x, y) takes levelled (x + (y - cy) * sin, y): one shift per
    // row, so the row is one blend of the source row with itself one pixel on, padded white.
    let mut out = vec![255u8; w_us * h_us];
    let mut padded = Vec::with_capacity(3 * w_us + 2);
    for (y, (row, source)) in out
        .chunks_exact_mut(w_us)
        .zip(levelled.chunks_exact(w_us))
        .enumerate()
    {
        let (shift, weight) = split((y as f32 - cy) * sin);
        // Output x reads padded[x + shift + w] and the pixel after it.
        padded.clear();
        padded.extend_from_slice(&blank);
        padded.extend_from_slice(source);
        padded.extend_from_slice(&blank);
        padded.push(255);
        let start = (shift + w as i64).clamp(0, 2 * w as i64) as usize;
        let (a, b) = (&padded[start..start + w_us], &padded[start + 1..start + 1 + w_us]);
        for ((pixel, &a), &b) in row.iter_mut().zip(a).zip(b) {
            *pixel = blend(a, b, weight);
        }
    }
    GrayImage::from_raw(w, h, out).expect("same size")
}

/// `a` weighted `256 - weight`, `b` weighted `weight` (0..=256), rounded. In 16 bits (at most
/// 255 * 256 + 128), so that the loops over rows run many pixels at once.
fn blend(a: u8, b: u8, weight: u16) -> u8 {
    ((u16::from(a) * (256 - weight) + u16::from(b) * weight + 128) >> 8) as u8
}

fn blend_into(out: &mut [u8], upper: &[u8], lower: &[u8], weights: &[u16]) {
    for (((pixel, &a), &b), &weight) in out.iter_mut().zip(upper).zip(lower).zip(weights) {
        *pixel = blend(a, b, weight);
    }
}

/// The own orientation test alone, on a whole page (for measuring it against the engine's).
pub fn own_orientation(image: &GrayImage) -> Option<Orientation> {
    Sample::of(image).orientation().map(|own| own.found)
}

fn rescale(page: &mut Prepared, target_dpi: u32) {
    let factor = target_dpi as f64 / page.dpi as f64;
    let (w, h) = page.image.dimensions();
    let (nw, nh) = (
        ((w as f64 * factor).round() as u32).max(1),
        ((h as f64 * factor).round() as u32).max(1),
    );
    // Downscaling: area-averaging (Triangle) keeps thin strokes; upscaling: CatmullRom keeps
    // edges sharp.
    let filter = if factor < 1.0 {
        FilterType::Triangle
    } else {
        FilterType::CatmullRom
    };
    page.image = image::imageops::resize(&page.image, nw, nh, filter);
    page.dpi = target_dpi;
}

/// Turns an image clockwise by a multiple of 90 degrees.
pub fn turn(image: &GrayImage, clockwise: u16) -> GrayImage {
    match clockwise {
        90 => image::imageops::rotate90(image),
        180 => image::imageops::rotate180(image),
        270 => image::imageops::rotate270(image),
        _ => image.clone(),
    }
}

/// Side of the square blocks the background is estimated over, in pixels.
const BLOCK: u32 = 48;

/// A pixel darker than this share of its paper's brightness may be ink.
const INK_CANDIDATE: f32 = 0.9;

/// A block whose very brightest pixels stay below this share of its neighbourhood's background
/// shows no paper: it is shaded, or ink ...
const SHADED: f32 = 0.92;

/// ... ink if its background is darker than this share of the neighbourhood's.
const SHADE_FLOOR: f32 = 0.6;

/// A dark pixel with dark ink this many pixels away on all four sides is in a dark area, not a
/// stroke of text (at 300 dpi, strokes of body text are 3 to 5 pixels wide, a bold title's 8).
const SOLID: u32 = 6;

/// A dark pixel with dark ink this many pixels away on both sides along a row or a column is on
/// a line longer than any letter (a 24 point capital is 70 pixels tall at 300 dpi).
const LINE: u32 = 48;

/// Ink darker than this share of its paper is dark, not faint ...
const DARK_INK: f32 = 0.35;

/// ... and a page where this share of the marks darker than paper are dark is not faint: on
/// the dev corpus, faint pages have none (below 0.1%), a page of black print with the other
/// side's bleeding through 16%.
const DARK_SHARE: f32 = 0.03;

/// Paper brightness varying more than this across the page (5th to 95th percentile of blocks)
/// is uneven lighting.
const UNEVEN: f32 = 45.0;

/// Flattens an unevenly lit background to white and stretches faint ink to black, when the
/// page needs it: returns whether it changed anything. A clean page is left alone.
fn normalize_contrast(image: &mut GrayImage) -> bool {
    let (w, h) = image.dimensions();
    if w < BLOCK * 2 || h < BLOCK * 2 {
        return false;
    }
    // Background per block: the brightest pixels of the block (a high percentile of a sample,
    // so a white speck does not count).
    let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    let mut background = vec![0f32; (bw * bh) as usize];
    // And each block's brightest pixels of all (nearly: a speck may be brighter still).
    let mut brightest = vec![0f32; (bw * bh) as usize];
    let mut sample = Vec::with_capacity((BLOCK * BLOCK / 9) as usize);
    for by in 0..bh {
        for bx in 0..bw {
            sample.clear();
            for y in (by * BLOCK..((by + 1) * BLOCK).min(h)).step_by(3) {
                for x in (bx * BLOCK..((bx + 1) * BLOCK).min(w)).step_by(3) {
                    sample.push(image.get_pixel(x, y)[0]);
                }
            }
            let k = sample.len() * 9 / 10;
            let (_, level, above) = sample.select_nth_unstable(k);
            background[(by * bw + bx) as usize] = f32::from(*level);
            let top = (above.len() * 9 / 10).min(above.len().saturating_sub(1));
            brightest[(by * bw + bx) as usize] = if above.is_empty() {
                f32::from(*level)
            } else {
                f32::from(*above.select_nth_unstable(top).1)
            };
        }
    }
    // Blocks that are all ink (a black bar, a photo) would turn white: take each block's
    // background as the brightest of its neighbourhood. Except in a shaded box behind a header
    // block (a light gray fill, no paper showing in the block at all): there the block keeps
    // its own, so that the fill is flattened to white under the black text instead of being
    // taken for faint ink and darkened to black.
    let spread = |grid: &[f32]| {
        let mut out = grid.to_vec();
        for by in 0..bh as i64 {
            for bx in 0..bw as i64 {
                let mut best = 0f32;
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        let (x, y) = (bx + dx, by + dy);
                        if x >= 0 && y >= 0 && x < bw as i64 && y < bh as i64 {
                            best = best.max(grid[(y * bw as i64 + x) as usize]);
                        }
                    }
                }
                let at = (by * bw as i64 + bx) as usize;
                let shaded = brightest[at] < SHADED * best && grid[at] >= SHADE_FLOOR * best;
                if !shaded {
                    out[at] = best;
                }
            }
        }
        out
    };
    let own = background;
    let background = spread(&own);
    let mut sorted = background.clone();
    sorted.sort_by(f32::total_cmp);
    let paper_low = sorted[sorted.len() / 20];
    let paper_high = sorted[sorted.len() - 1 - sorted.len() / 20];
    // The ink is judged on the page's text: not in its border margins (scanner borders and
    // punch holes), nor in blocks showing no paper (a black bar, a photo), nor in dark
    // areas wider than any stroke of text or lines longer than any letter (a frame, the
    // scanner's backing round a crooked sheet, a rule: thick and black beside faint print,
    // they would call it dark).
    let (mx, my) = border_margins(w, h);
    let block = |x: u32, y: u32| ((y / BLOCK) * bw + x / BLOCK) as usize;
    let level = |x: u32, y: u32| image.get_pixel(x, y)[0] as f32 / background[block(x, y)].max(1.0);
    let dark_at = |x: Option<u32>, y: Option<u32>| match (x, y) {
        (Some(x), Some(y)) if x < w && y < h => level(x, y) < DARK_INK,
        _ => false,
    };
    let both_sides = |x: u32, y: u32, reach: u32| {
        let (left, right) = (x.checked_sub(reach), x.checked_add(reach));
        let (up, down) = (y.checked_sub(reach), y.checked_add(reach));
        let across = dark_at(left, Some(y)) && dark_at(right, Some(y));
        let along = dark_at(Some(x), up) && dark_at(Some(x), down);
        (across, along)
    };
    let not_text = |x: u32, y: u32| {
        let (across, along) = both_sides(x, y, SOLID);
        let (long_across, long_along) = both_sides(x, y, LINE);
        (across && along) || long_across || long_along
    };
    let mut levels = Vec::new();
    for y in (my..h - my).step_by(3) {
        for x in (mx..w - mx).step_by(3) {
            if own[block(x, y)] < SHADE_FLOOR * background[block(x, y)] {
                continue;
            }
            let at = level(x, y);
            if !(at < DARK_INK && not_text(x, y)) {
                levels.push(at);
            }
        }
    }
    // Ink level relative to the local background: a low percentile of the pixels darker than
    // the paper. Of all pixels it would land on letter edges of a page with a few lines only
    // and call its ink faint; a page with almost no such pixels is not judged.
    let sampled = levels.len();
    levels.retain(|&level| level < INK_CANDIDATE);
    let dark = levels.iter().filter(|&&level| level < DARK_INK).count();
    let ink = if levels.len() * 2000 < sampled {
        1.0
    } else {
        let k = levels.len() / 5;
        *levels.select_nth_unstable_by(k, f32::total_cmp).1
    };
    let uneven = paper_high - paper_low > UNEVEN;
    // Ink that stays lighter than 45% of its paper is faint, unless the page has dark ink
    // beside it: then the light marks are not its print but the other side's showing through,
    // a pencil note, a tinted form, and stretching them to black would bury the print.
    let faint = ink > 0.45 && ink < 0.9 && (dark as f32) < DARK_SHARE * levels.len() as f32;
    let dark_paper = paper_high < 200.0;
    tracing::debug!(
        paper_low,
        paper_high,
        ink,
        uneven,
        faint,
        dark_paper,
        "page contrast"
    );
    if !(uneven || faint || dark_paper) {
        return false;
    }
    // Faint ink is stretched so that its darkest part ends up near black.
    let stretch = if faint { 0.9 / (1.0 - ink) } else { 1.0 };
    let at = |bx: i64, by: i64| {
        background[(by.clamp(0, bh as i64 - 1) * bw as i64 + bx.clamp(0, bw as i64 - 1)) as usize]
    };
    let half = BLOCK as f32 / 2.0;
    let mut row_bg = vec![0f32; w as usize];
    for y in 0..h {
        // Bilinear interpolation of the block grid, one row at a time.
        let fy = (y as f32 - half) / BLOCK as f32;
        let y0 = fy.floor() as i64;
        let ty = fy - y0 as f32;
        for (x, slot) in row_bg.iter_mut().enumerate() {
            let fx = (x as f32 - half) / BLOCK as f32;
            let x0 = fx.floor() as i64;
            let tx = fx - x0 as f32;
            let top = at(x0, y0) * (1.0 - tx) + at(x0 + 1, y0) * tx;
            let bottom = at(x0, y0 + 1) * (1.0 - tx) + at(x0 + 1, y0 + 1) * tx;
            *slot = (top * (1.0 - ty) + bottom * ty).max(1.0);
        }
        let start = (y * w) as usize;
        let row = &mut image.as_mut()[start..start + w as usize];
        for (pixel, bg) in row.iter_mut().zip(&row_bg) {
            let level = (*pixel as f32 / bg).min(1.0);
            let stretched = 1.0 - (1.0 - level) * stretch;
            *pixel = (stretched.clamp(0.0, 1.0) * 255.0) as u8;
        }
    }
    true
}

/// The widest scanner streak, in inches (6 pixels at 300 dpi).
const STREAK_INCHES: f32 = 0.02;

/// A pixel darker than this is ink, for finding white streaks.
const STREAK_INK: u8 = 128;

/// A white streak: strokes go on across it at least this share as often as across the same
/// width of text beside it (white lines drawn down the dev corpus's pages: mostly 0.6 to 3.6,
/// a few lower, missed; gaps between letters or table columns running down a page: 0 to 0.2) ...
const WHITE_BRIDGED: f32 = 0.6;

/// ... and strokes cross it in at least this many rows (of every other one).
const WHITE_CROSSINGS: u32 = 3;

/// Or, on a page whose paper has a texture (a gray scan), it is paper brighter than the paper on
/// both sides of it in at least this share of the rows where all three are paper: a failed
/// sensor element reads full white, flat (white lines drawn down the damaged dev corpus's gray
/// pages: 0.86 to 0.97; gaps between letters or columns of its pages: 0.3 at most).
const WHITE_RAISED: f32 = 0.75;

/// A dark streak is at least this much darker than the page beside it ...
const STREAK_CONTRAST: i16 = 40;

/// ... in at least this share of the page's rows (where text crosses it, it is not).
const STREAK_ROWS: f32 = 0.7;

/// Finds the streaks a sheet-fed scanner draws down a page and mends them; returns the middle
/// column of each.
///
/// A speck of dust on the scanner's glass draws a dark line: it cuts every letter it crosses and,
/// sharper than any row of text, it can turn the orientation test sideways. It is a few columns
/// darker than the page on either side of them nearly top to bottom, and is drawn again from
/// the columns beside it. Nothing printed does that over a page's whole height; a vertical rule
/// that long is mended away, which OCR does not miss.
///
/// A failed sensor element draws a white line: a few columns holding almost no ink where the
/// columns on either side hold plenty, and across which strokes go on (ink on one side has ink
/// on the other as often as across the same width of text beside it; a gap between letters or
/// table columns running down the page has ink on one side at a time), or which is flat white
/// where the paper beside it shows its texture (`scanned`: the page before its background was
/// flattened, when it was; else `image` itself). It is drawn across only where both sides hold
/// ink.
fn find_streaks(image: &mut GrayImage, scanned: Option<&GrayImage>, dpi: u32) -> Vec<f32> {
    let (w, h) = image.dimensions();
    let widest = ((dpi as f32 * STREAK_INCHES).round() as usize).max(2);
    // The columns a streak is compared with, clear of it and of its soft edges.
    let reach = widest + 2;
    let w_us = w as usize;
    if w_us <= 2 * reach + 4 || h < 200 {
        return Vec::new();
    }
    // Per column, over every other row: rows where it is ink, and where it is darker than the
    // columns `reach` away on both sides.
    let (mut inked, mut darker) = (vec![0u32; w_us], vec![0u32; w_us]);
    let mut rows = 0u32;
    for row in image.as_raw().chunks_exact(w_us).step_by(2) {
        rows += 1;
        for (count, &p) in inked.iter_mut().zip(row) {
            *count += u32::from(p < STREAK_INK);
        }
        for ((count, &p), (&left, &right)) in darker[reach..w_us - reach]
            .iter_mut()
            .zip(&row[reach..w_us - reach])
            .zip(row.iter().zip(&row[2 * reach..]))
        {
            let p = i16::from(p) + STREAK_CONTRAST;
            *count += u32::from(p < i16::from(left) && p < i16::from(right));
        }
    }
    let dark = |x: usize| darker[x] as f32 >= STREAK_ROWS * rows as f32;
    let enough_ink = (rows / 200).max(8);
    let white = |x: usize| {
        let beside = inked[x - reach].min(inked[x + reach]);
        beside >= enough_ink && inked[x] * 20 <= beside
    };
    // Runs of a few columns of either kind, apart: a dark streak beside a white one is two.
    let runs = |kind: &dyn Fn(usize) -> bool| {
        let mut runs = Vec::new();
        let mut x = reach;
        while x < w_us - reach {
            let start = x;
            while x < w_us - reach && kind(x) {
                x += 1;
            }
            if x == start {
                x += 1;
            } else if x - start <= widest {
                runs.push((start, x));
            }
        }
        runs
    };
    let (dark_runs, white_runs) = (runs(&dark), runs(&white));
    let mut found = Vec::new();
    // Each run's columns two out from it on either side.
    let anchors = |(start, end): (usize, usize)| (start - 2, end + 1);
    for &run in &dark_runs {
        let (left, right) = anchors(run);
        let span = (right - left) as u32;
        for row in image.chunks_exact_mut(w_us) {
            let (a, b) = (u32::from(row[left]), u32::from(row[right]));
            for (t, pixel) in (1..).zip(&mut row[left + 1..right]) {
                *pixel = ((a * (span - t) + b * t + span / 2) / span) as u8;
            }
        }
        found.push((run.0 + run.1 - 1) as f32 / 2.0);
    }
    let raw = image.as_raw();
    let textured = scanned.map_or(raw, |s| s.as_raw());
    let mut to_mend = Vec::new();
    let share = |(both, either): (u32, u32)| both as f32 / either.max(1) as f32;
    for &run in &white_runs {
        let (left, right) = anchors(run);
        let span = right - left;
        let (Some(before), after) = (left.checked_sub(span + reach), right + reach + span) else {
            continue;
        };
        if after >= w_us {
            continue;
        }
        let beside = (share(bridged(raw, w_us, before, before + span))
            + share(bridged(raw, w_us, after - span, after)))
            / 2.0;
        let (both, either) = bridged(raw, w_us, left, right);
        let crossed = both >= WHITE_CROSSINGS && share((both, either)) >= WHITE_BRIDGED * beside;
        let (above, paper) = raised(textured, w_us, left, (run.0 + run.1 - 1) / 2, right);
        let flat = paper * 2 >= rows && above as f32 >= WHITE_RAISED * paper as f32;
        if crossed || flat {
            found.push((run.0 + run.1 - 1) as f32 / 2.0);
            to_mend.push((left, right));
        }
    }
    // Strokes are drawn across a white streak only where there is ink on both sides of it (the
    // lighter side's level): a horizontal stroke it cut is whole again, while a vertical one it
    // wiped out stays lost rather than being made up. (Drawing each row as a blend of its two
    // sides made up strokes: `E1235275` read `EI235275`.)
    for (left, right) in to_mend {
        for row in image.chunks_exact_mut(w_us) {
            let lighter = row[left].max(row[right]);
            for pixel in &mut row[left + 1..right] {
                *pixel = (*pixel).min(lighter);
            }
        }
    }
    found
}

/// Rows (every other one of a page `width` wide) where column `middle` is brighter than both
/// `left` and `right` while all three are paper, and rows where all three are paper.
fn raised(raw: &[u8], width: usize, left: usize, middle: usize, right: usize) -> (u32, u32) {
    raw.chunks_exact(width)
        .step_by(2)
        .fold((0, 0), |(above, paper), row| {
            let (l, m, r) = (row[left], row[middle], row[right]);
            if l.min(m).min(r) < STREAK_INK {
                return (above, paper);
            }
            (above + u32::from(m > l.max(r)), paper + 1)
        })
}

/// Rows (every other one of a page `width` wide) with ink at both column `left` and `right`,
/// and at either.
fn bridged(raw: &[u8], width: usize, left: usize, right: usize) -> (u32, u32) {
    raw.chunks_exact(width)
        .step_by(2)
        .fold((0, 0), |(both, either), row| {
            let (l, r) = (row[left] < STREAK_INK, row[right] < STREAK_INK);
            (both + u32::from(l && r), either + u32::from(l || r))
        })
}

/// The page's outer 4% across and down, where scanner borders and punch holes are: left out
/// where the page's own print is judged.
fn border_margins(width: u32, height: u32) -> (u32, u32) {
    (width / 25, height / 25)
}

/// A page is blank when almost none of its inner area holds solid ink (2x2 dark pixels, so
/// speckle does not count); its border margins are left out.
fn is_blank(image: &GrayImage, max_ink_permille: f32) -> bool {
    let (w, h) = image.dimensions();
    let (mx, my) = border_margins(w, h);
    if w < 3 * mx + 2 || h < 3 * my + 2 {
        return false;
    }
    let mut levels: Vec<u8> = image.as_raw().iter().step_by(11).copied().collect();
    let k = levels.len() * 9 / 10;
    let paper = *levels.select_nth_unstable(k).1;
    let dark = paper.saturating_sub(60);
    let raw = image.as_raw();
    let mut solid = 0u64;
    let mut total = 0u64;
    for y in (my..h - my - 1).step_by(2) {
        let row = (y * w) as usize;
        let next = row + w as usize;
        for x in (mx..w - mx - 1).step_by(2) {
            let x = x as usize;
            total += 1;
            if raw[row + x] < dark
                && raw[row + x + 1] < dark
                && raw[next + x] < dark
                && raw[next + x + 1] < dark
            {
                solid += 1;
            }
        }
    }
    total > 0 && (solid as f32 * 1000.0 / total as f32) < max_ink_permille
}

/// What the own orientation test found: which way the text runs, and the skew of its lines
/// once turned that way (or a half turn from it).
#[derive(Debug, Clone, Copy)]
struct OwnOrientation {
    found: Orientation,
    skew: f32,
}

/// A small binarized copy of a page (about 1000 pixels wide) for measuring skew and line height.
struct Sample {
    /// Coordinates of the dark pixels.
    ink: Vec<(f32, f32)>,
    width: u32,
    height: u32,
    /// Original pixels per sample pixel.
    scale: f32,
}

/// Counts of marked pixels in any box of a small page copy, in constant time (a summed-area
/// table).
struct BoxCounts {
    sums: Vec<u32>,
    width: u32,
    height: u32,
}

impl BoxCounts {
    /// `marked`: one flag per pixel, row by row.
    fn new(width: u32, height: u32, marked: &[bool]) -> BoxCounts {
        let stride = width as usize + 1;
        let mut sums = vec![0u32; stride * (height as usize + 1)];
        for (y, flags) in marked.chunks_exact(width as usize).enumerate() {
            let (above, below) = sums.split_at_mut((y + 1) * stride);
            let above = &above[y * stride + 1..];
            let mut row = 0;
            for ((sum, &up), &flag) in below[1..stride].iter_mut().zip(above).zip(flags) {
                row += u32::from(flag);
                *sum = up + row;
            }
        }
        BoxCounts { sums, width, height }
    }

    /// Marked pixels in the box reaching `reach` pixels round (x, y), and the box's area.
    fn around(&self, x: u32, y: u32, reach: u32) -> (u32, u32) {
        let (x0, y0) = (x.saturating_sub(reach) as usize, y.saturating_sub(reach) as usize);
        let (x1, y1) = (
            (x + reach + 1).min(self.width) as usize,
            (y + reach + 1).min(self.height) as usize,
        );
        let stride = self.width as usize + 1;
        let sum = |x: usize, y: usize| self.sums[y * stride + x];
        let marked = sum(x1, y1) + sum(x0, y0) - sum(x0, y1) - sum(x1, y0);
        (marked, ((x1 - x0) * (y1 - y0)) as u32)
    }
}

/// Half the side of the box that tells an area of ink from a stroke: 7 x 7 sample pixels, wider
/// than any stroke of body text or a bold title at the sample's scale (about 150 dpi).
const SOLID_REACH: u32 = 3;

impl Sample {
    fn of(image: &GrayImage) -> Sample {
        let (w, h) = image.dimensions();
        // Box-averaged down to about 1000 pixels across (a 300 dpi page: 2x2 boxes).
        let step = (w.max(h) / 1300).max(1);
        let (sw, sh) = (w / step, h / step);
        let (w_us, step_us) = (w as usize, step as usize);
        let raw = image.as_raw();
        let mut small = GrayImage::new(sw, sh);
        let per_area = 1.0 / f64::from(step * step);
        // Each band of `step` rows summed column by column, then each run of `step` columns.
        let mut columns = vec![0u32; w_us];
        for (sy, row) in small.chunks_exact_mut(sw as usize).enumerate() {
            columns.fill(0);
            for y in sy * step_us..(sy + 1) * step_us {
                for (sum, &pixel) in columns.iter_mut().zip(&raw[y * w_us..(y + 1) * w_us]) {
                    *sum += u32::from(pixel);
                }
            }
            // The mean, rounded down as integer division would (which is far slower).
            for (pixel, group) in row.iter_mut().zip(columns.chunks_exact(step_us)) {
                *pixel = ((f64::from(group.iter().sum::<u32>()) + 0.5) * per_area) as u8;
            }
        }
        let threshold = imageproc::contrast::otsu_level(&small);
        // Otsu's level is the last value of the dark class (0 on a bilevel page).
        let dark: Vec<bool> = small
            .as_raw()
            .iter()
            .map(|&p| threshold < 255 && p <= threshold)
            .collect();
        let at = |x: u32, y: u32| y as usize * sw as usize + x as usize;
        // Text is strokes. A solid dark area (a scanner's black backing showing round a crooked
        // sheet, a punch hole, a photo) and its edges, long straight lines sharper than any
        // row of text, are left out.
        let dark_counts = BoxCounts::new(sw, sh, &dark);
        let mut solid = vec![false; dark.len()];
        for (y, (solid, dark)) in solid
            .chunks_exact_mut(sw as usize)
            .zip(dark.chunks_exact(sw as usize))
            .enumerate()
        {
            for (x, (solid, _)) in solid
                .iter_mut()
                .zip(dark)
                .enumerate()
                .filter(|(_, (_, dark))| **dark)
            {
                let (marked, area) = dark_counts.around(x as u32, y as u32, SOLID_REACH);
                *solid = marked * 10 >= area * 9;
            }
        }
        let near_solid = solid.contains(&true).then(|| BoxCounts::new(sw, sh, &solid));
        let (mx, my) = (sw / 30, sh / 30);
        let mut ink = Vec::new();
        for y in my..sh.saturating_sub(my) {
            for x in mx..sw.saturating_sub(mx) {
                let clear = || {
                    near_solid
                        .as_ref()
                        .is_none_or(|n| n.around(x, y, SOLID_REACH).0 == 0)
                };
                if dark[at(x, y)] && clear() {
                    ink.push((x as f32, y as f32));
                }
            }
        }
        Sample {
            ink,
            width: sw,
            height: sh,
            scale: step as f32,
        }
    }

    /// The same sample after the page is turned clockwise by a multiple of 90 degrees.
    fn turned(self, clockwise: u16) -> Sample {
        let (w, h) = (self.width as f32, self.height as f32);
        let (width, height) = match clockwise {
            90 | 270 => (self.height, self.width),
            _ => (self.width, self.height),
        };
        let ink = self
            .ink
            .into_iter()
            .map(|(x, y)| match clockwise {
                90 => (h - 1.0 - y, x),
                180 => (w - 1.0 - x, h - 1.0 - y),
                270 => (y, w - 1.0 - x),
                _ => (x, y),
            })
            .collect();
        Sample {
            ink,
            width,
            height,
            scale: self.scale,
        }
    }

    /// Which way the text runs, from the ink alone, and the skew of its lines. Lines of text make sharp rows, not sharp
    /// columns: that tells upright-or-upside-down from sideways. Latin text has far more ink
    /// above its x-height band (capitals, b d f h k l t) than below it (g j p q y): that tells
    /// upright from upside down. The confidence is on the scale of Tesseract's OSD margin.
    fn orientation(&self) -> Option<OwnOrientation> {
        if self.ink.len() < 2000 {
            return None;
        }
        // Rows and columns are each compared at their sharpest angle within the skew a page
        // may have (a page skewed 5 degrees has blurred rows at 2, and its left margin can
        // then look like the sharper structure).
        // The sweep that finds them is the skew measurement's first one, and goes on to
        // measure the winner's skew.
        let mut bins = Vec::new();
        let rows = self.coarse_skew(ORIENTATION_SKEW_LIMIT, &mut bins);
        let sideways = self.clone_turned(90);
        let columns = sideways.coarse_skew(ORIENTATION_SKEW_LIMIT, &mut bins);
        let (candidate, lines_ratio, base, coarse) = if rows.1 >= columns.1 {
            (self, rows.1 / columns.1.max(1.0), 0u16, rows)
        } else {
            (&sideways, columns.1 / rows.1.max(1.0), 90, columns)
        };
        let skew = candidate.refined_skew(coarse, &mut bins);
        let asymmetry = candidate.ascender_asymmetry(skew)?;
        let rotate_cw = if asymmetry >= 0.0 {
            base
        } else {
            (base + 180) % 360
        };
        // Both tests must be clear; the weaker one decides how sure the answer is.
        let confidence = ((lines_ratio as f32 - 1.0) * 4.0).min(asymmetry.abs() * 20.0);
        Some(OwnOrientation {
            found: Orientation {
                rotate_cw,
                confidence,
            },
            skew,
        })
    }

    fn clone_turned(&self, clockwise: u16) -> Sample {
        Sample {
            ink: self.ink.clone(),
            width: self.width,
            height: self.height,
            scale: self.scale,
        }
        .turned(clockwise)
    }

    /// (ink above the x-height band − ink below it) / (both), over all text lines of a page
    /// whose lines run across it; positive when upright.
    /// `skew`: the lines' measured skew.
    fn ascender_asymmetry(&self, skew: f32) -> Option<f32> {
        let tan = skew.to_radians().tan();
        let offset = self.width as f32 * tan.abs();
        let mut rows = vec![0u32; (self.height as f32 + 2.0 * offset) as usize + 2];
        for &(x, y) in &self.ink {
            if let Some(bin) = rows.get_mut((y - x * tan + offset) as usize) {
                *bin += 1;
            }
        }
        let busy = (self.width / 200).max(2);
        let (mut above, mut below, mut lines) = (0u64, 0u64, 0u32);
        let mut start = None;
        for (i, &count) in rows.iter().chain(std::iter::once(&0)).enumerate() {
            match (start, count >= busy) {
                (None, true) => start = Some(i),
                (Some(from), false) => {
                    start = None;
                    let line = &rows[from..i];
                    if line.len() < 4 {
                        continue;
                    }
                    // The x-height band: the rows around the densest one holding at least
                    // half its ink.
                    let peak = *line.iter().max().unwrap_or(&0);
                    let core = |r: &u32| *r * 2 >= peak;
                    let top = line.iter().position(core).unwrap_or(0);
                    let bottom = line.len() - line.iter().rev().position(core).unwrap_or(0);
                    above += line[..top].iter().map(|&r| r as u64).sum::<u64>();
                    below += line[bottom..].iter().map(|&r| r as u64).sum::<u64>();
                    lines += 1;
                }
                _ => {}
            }
        }
        if lines < 3 || above + below == 0 {
            return None;
        }
        Some((above as f32 - below as f32) / (above + below) as f32)
    }

    /// How sharply the ink falls into rows when the page is sheared by `angle` degrees.
    fn row_sharpness(&self, angle: f32, bins: &mut Vec<u32>) -> f64 {
        let tan = angle.to_radians().tan();
        let offset = self.width as f32 * tan.abs();
        bins.clear();
        bins.resize((self.height as f32 + 2.0 * offset) as usize + 2, 0);
        for &(x, y) in &self.ink {
            let row = (y - x * tan + offset) as usize;
            if let Some(bin) = bins.get_mut(row) {
                *bin += 1;
            }
        }
        bins.windows(2)
            .map(|pair| {
                let d = pair[1] as f64 - pair[0] as f64;
                d * d
            })
            .sum()
    }

    /// The skew in degrees (lines falling to the right are positive), searched within
    /// ±`limit`; 0 when the page has too little ink to tell.
    fn skew(&self, limit: f32) -> f32 {
        if self.ink.len() < 500 {
            return 0.0;
        }
        let mut bins = Vec::new();
        let coarse = self.coarse_skew(limit, &mut bins);
        self.refined_skew(coarse, &mut bins)
    }

    /// The angle within ±`limit` (half-degree steps) at which the ink falls into the sharpest
    /// rows, and how sharp they are there.
    fn coarse_skew(&self, limit: f32, bins: &mut Vec<u32>) -> (f32, f64) {
        self.sharpest_rows(-limit, limit, 0.5, bins)
    }

    fn sharpest_rows(&self, from: f32, to: f32, step: f32, bins: &mut Vec<u32>) -> (f32, f64) {
        let mut best = (0.0f32, f64::MIN);
        let mut angle = from;
        while angle <= to + 1e-4 {
            let score = self.row_sharpness(angle, bins);
            if score > best.1 {
                best = (angle, score);
            }
            angle += step;
        }
        best
    }

    /// The skew to a tenth of a degree around a [`Sample::coarse_skew`] angle; 0 when no angle
    /// beats level lines.
    fn refined_skew(&self, coarse: (f32, f64), bins: &mut Vec<u32>) -> f32 {
        let fine = self.sharpest_rows(coarse.0 - 0.5, coarse.0 + 0.5, 0.1, bins);
        let level = self.row_sharpness(0.0, bins);
        // A flat profile at every angle (a photo, a table of dots) says nothing.
        if fine.1 < level * 1.02 {
            return 0.0;
        }
        (fine.0 * 10.0).round() / 10.0
    }

    /// Resolution from the height of text lines: body text lines (ascender to descender) are
    /// about 0.15 inch (10 to 12 point type).
    fn estimate_dpi(&self) -> Option<u32> {
        let mut rows = vec![0u32; self.height as usize];
        for &(_, y) in &self.ink {
            rows[y as usize] += 1;
        }
        let busy = (self.width / 100).max(2);
        let mut heights = Vec::new();
        let mut run = 0u32;
        for &count in rows.iter().chain(std::iter::once(&0)) {
            if count >= busy {
                run += 1;
            } else {
                if run >= 2 {
                    heights.push(run);
                }
                run = 0;
            }
        }
        if heights.len() < 5 {
            return None;
        }
        heights.sort_unstable();
        let line = heights[heights.len() / 2] as f32 * self.scale;
        let dpi = (line / 0.15).round() as u32;
        Some(dpi.clamp(100, 1200))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageproc::geometric_transformations::{Interpolation, rotate_about_center};

    /// A page of "text": rows of words made of thin upright strokes, like letters on lines.
    fn page(width: u32, height: u32, line_height: u32, ink: u8, paper: u8) -> GrayImage {
        let mut image = GrayImage::from_pixel(width, height, image::Luma([paper]));
        let gap = line_height * 2;
        let mut y = height / 10;
        while y + line_height < height * 9 / 10 {
            let mut x = width / 10;
            let mut word = 0u32;
            while x + 60 < width * 9 / 10 {
                let len = 30 + (word * 37 % 50);
                for yy in y..y + line_height {
                    for xx in (x..(x + len).min(width)).filter(|xx| (xx - x) % 4 < 2) {
                        image.put_pixel(xx, yy, image::Luma([ink]));
                    }
                }
                x += len + line_height;
                word += 1;
            }
            y += line_height + gap;
        }
        image
    }

    fn everything() -> PreprocessConfig {
        PreprocessConfig::default()
    }

    fn never(_: &GrayImage, _: u32) -> Option<Orientation> {
        None
    }

    /// `image` fed `degrees` askew onto a backing of gray level `backing`.
    fn askew(image: &GrayImage, degrees: f32, backing: u8) -> GrayImage {
        rotate_about_center(
            image,
            degrees.to_radians(),
            Interpolation::Bilinear,
            image::Luma([backing]),
        )
    }

    #[test]
    fn measures_and_undoes_a_skew_in_either_direction() {
        let upright = page(1200, 1600, 12, 0, 255);
        for degrees in [-6.0f32, -2.5, 3.0, 8.0] {
            let skewed = askew(&upright, degrees, 255);
            let measured = Sample::of(&skewed).skew(10.0);
            assert!(
                (measured - degrees).abs() <= 0.3,
                "{degrees}: measured {measured}"
            );
        }
        assert_eq!(Sample::of(&upright).skew(10.0), 0.0);
        let prepared = prepare(askew(&upright, 4.0, 255), Some(300), &everything(), &mut never);
        assert!((prepared.skew - 4.0).abs() <= 0.3, "{}", prepared.skew);
        assert!(Sample::of(&prepared.image).skew(10.0).abs() <= 0.3);
    }

    #[test]
    fn a_skewed_page_is_not_taken_for_a_sideways_one() {
        // Real type: a sample scan's page, skewed the way a sheet fed crooked is.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/samples/scan-lab.png");
        let upright = image::open(path).unwrap().into_luma8();
        assert_eq!(
            Sample::of(&upright).orientation().map(|o| o.found.rotate_cw),
            Some(0)
        );
        for degrees in [-8.0f32, -5.0, 5.0, 8.0] {
            let skewed = askew(&upright, degrees, 255);
            let found = Sample::of(&skewed).orientation();
            assert_eq!(found.map(|o| o.found.rotate_cw), Some(0), "{degrees}: {found:?}");
            // On a scanner's black backing, which shows as wedges round the crooked sheet,
            // with three punch holes down its side.
            let mut on_black = askew(&upright, degrees, 0);
            let (_, height) = on_black.dimensions();
            for centre_y in [height / 5, height / 2, height * 4 / 5] {
                imageproc::drawing::draw_filled_circle_mut(
                    &mut on_black,
                    (60, centre_y as i32),
                    18,
                    image::Luma([0]),
                );
            }
            let sample = Sample::of(&on_black);
            let found = sample.orientation();
            assert_eq!(
                found.map(|o| o.found.rotate_cw),
                Some(0),
                "{degrees} on black: {found:?}"
            );
            assert!(
                (sample.skew(10.0) - degrees).abs() <= 0.5,
                "{degrees}: {}",
                sample.skew(10.0)
            );
        }
    }

    #[test]
    fn turns_the_page_the_way_the_detector_says_when_it_is_sure() {
        let upright = page(800, 1000, 10, 0, 255);
        let sideways = turn(&upright, 90);
        let says = |rotate_cw, confidence| {
            move |_: &GrayImage, _: u32| {
                Some(Orientation {
                    rotate_cw,
                    confidence,
                })
            }
        };
        let config = PreprocessConfig {
            deskew: false,
            ..everything()
        };
        let turned = prepare(sideways.clone(), Some(300), &config, &mut says(270, 9.0));
        assert_eq!(turned.rotation, 270);
        assert_eq!(turned.image, upright);
        let unsure = prepare(sideways.clone(), Some(300), &config, &mut says(270, 0.3));
        assert_eq!(
            (unsure.rotation, unsure.image.dimensions()),
            (0, sideways.dimensions())
        );
        let off = PreprocessConfig {
            orientation: false,
            ..config
        };
        assert_eq!(
            prepare(sideways, Some(300), &off, &mut says(270, 9.0)).rotation,
            0
        );
    }

    #[test]
    fn blank_pages_are_blank_and_speckle_or_a_single_line_is_not_mistaken() {
        let mut white = GrayImage::from_pixel(1000, 1300, image::Luma([245]));
        assert!(is_blank(&white, 0.5));
        // Salt-and-pepper speckle and a dark scanner border stay blank.
        for i in 0..4000u32 {
            white.put_pixel((i * 7919) % 1000, (i * 104729) % 1300, image::Luma([0]));
        }
        for y in 0..1300 {
            for x in 0..25 {
                white.put_pixel(x, y, image::Luma([10]));
            }
        }
        assert!(is_blank(&white, 0.5));
        // One line of text is content.
        for y in 600..612 {
            for x in 200..800 {
                white.put_pixel(x, y, image::Luma([20]));
            }
        }
        assert!(!is_blank(&white, 0.5));
        let prepared = prepare(
            GrayImage::from_pixel(900, 1200, image::Luma([250])),
            Some(300),
            &everything(),
            &mut |_: &GrayImage, _: u32| -> Option<Orientation> {
                panic!("a blank page is not looked at further")
            },
        );
        assert!(prepared.blank);
    }

    #[test]
    fn faint_and_unevenly_lit_pages_are_normalised_and_clean_ones_left_alone() {
        let clean = page(900, 1200, 10, 10, 250);
        let mut copy = clean.clone();
        assert!(!normalize_contrast(&mut copy));
        assert_eq!(copy, clean);

        // Faint gray ink on a background darkening from left to right.
        let mut uneven = page(900, 1200, 10, 0, 255);
        for (x, _, p) in uneven.enumerate_pixels_mut() {
            let light = 250.0 - 90.0 * x as f32 / 900.0;
            let ink = p[0] == 0;
            p[0] = if ink { (light - 70.0) as u8 } else { light as u8 };
        }
        assert!(normalize_contrast(&mut uneven));
        let (left, right) = (uneven.get_pixel(95, 20)[0], uneven.get_pixel(800, 20)[0]);
        assert!(left > 225 && right > 225, "background flattened: {left} {right}");
        let darkest = |xs: std::ops::Range<u32>| xs.map(|x| uneven.get_pixel(x, 125)[0]).min().unwrap();
        let (first_word, late_word) = (darkest(90..120), darkest(700..810));
        assert!(
            first_word < 100 && late_word < 100,
            "ink darkened: {first_word} {late_word}"
        );
    }

    #[test]
    fn the_other_side_showing_through_is_not_taken_for_faint_ink() {
        // Black print at the top, the back page's text showing through light gray below it.
        let print = page(900, 1200, 10, 10, 250);
        let mut bleed = page(900, 1200, 10, 185, 250);
        for (x, y, p) in bleed.enumerate_pixels_mut() {
            if y < 300 {
                *p = *print.get_pixel(x, y);
            }
        }
        normalize_contrast(&mut bleed);
        let lightest = (600..700)
            .flat_map(|y| (100..800).map(move |x| (x, y)))
            .map(|(x, y)| bleed.get_pixel(x, y)[0])
            .min()
            .unwrap();
        assert!(lightest > 150, "the show-through was darkened to {lightest}");

        // Faint print on a scanner's black backing (showing down one side and across the top),
        // or framed by a thick black line, is still faint.
        let mut faint = page(900, 1200, 10, 150, 245);
        let frame = |at: u32| (40..75).contains(&at);
        for (x, y, p) in faint.enumerate_pixels_mut() {
            if x < 30 || y < 30 || (frame(x) && y >= 40) || (frame(y) && x >= 40) {
                p[0] = 5;
            }
        }
        assert!(normalize_contrast(&mut faint));
        let darkest = (100..800).map(|x| faint.get_pixel(x, 125)[0]).min().unwrap();
        assert!(darkest < 100, "faint ink left at {darkest}");
    }

    #[test]
    fn scanner_streaks_are_found_dark_ones_mended_and_a_clean_page_left_alone() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/samples/scan-lab.png");
        let mut clean = image::open(path).unwrap().into_luma8();
        // Its block of text printed down the whole page, each time shifted sideways (so that
        // its letters do not line up down the page), as a full page of text would be.
        let block = 230..800;
        for y in block.end..3100 {
            let copy = (y - block.end) / block.len() as u32 + 1;
            let from = block.start + (y - block.end) % block.len() as u32;
            let shift = copy * 97 % 400;
            for x in shift..clean.width() {
                let p = *clean.get_pixel(x - shift, from);
                clean.put_pixel(x, y, p);
            }
        }
        let mut copy = clean.clone();
        assert_eq!(find_streaks(&mut copy, None, 300), Vec::<f32>::new());
        assert_eq!(copy, clean, "a page without streaks is left as it is");

        // Lines down the page, through the text: black, gray and white.
        let mut streaked = clean.clone();
        let lines = [(400..402, 40), (700..703, 110), (900..903, 255)];
        for (x, _, p) in streaked.enumerate_pixels_mut() {
            if let Some((_, level)) = lines.iter().find(|(columns, _)| columns.contains(&x)) {
                p[0] = *level;
            }
        }
        let found = find_streaks(&mut streaked, None, 300);
        assert_eq!(found, [400.5, 701.0, 901.0]);
        // The dark ones are mended: the letters they crossed are back, as far as the columns
        // beside them tell.
        let as_printed = |columns: std::ops::Range<u32>| {
            let (agree, all) = (230..3100)
                .flat_map(|y| columns.clone().map(move |x| (x, y)))
                .fold((0, 0), |(agree, all), (x, y)| {
                    let ink = |image: &GrayImage| image.get_pixel(x, y)[0] < 128;
                    (agree + u32::from(ink(&streaked) == ink(&clean)), all + 1)
                });
            agree as f32 / all as f32
        };
        assert!(as_printed(400..402) > 0.9 && as_printed(700..703) > 0.9);
        // The white one is drawn across only where there is ink on both sides of it: a stroke
        // it cut is whole again, one it may have wiped out is not made up.
        let (mut bridged, mut left_open) = (0, 0);
        for y in 230..3100 {
            let ink = |x: u32| streaked.get_pixel(x, y)[0] < 128;
            let (left, right) = (ink(898), ink(904));
            if left && right {
                bridged += 1;
                assert!((899..904).all(ink), "row {y} not bridged");
            } else if left != right {
                left_open += 1;
                assert!((900..903).all(|x| !ink(x)), "row {y} made up");
            }
        }
        assert!(bridged > 50 && left_open > 50, "{bridged} {left_open}");
    }

    #[test]
    fn a_white_streak_on_a_gray_scan_is_told_by_its_flat_white_where_no_stroke_crosses_it() {
        // Textured paper; strokes end on either side of columns 500..503 but never cross them
        // (ink on one side at a time), so only the paper's texture can tell a failed sensor
        // element from a gap that happens to run down the page.
        let scan = |streak: bool| {
            GrayImage::from_fn(1200, 1600, |x, y| {
                let ink = match y % 40 {
                    0..10 => (488..500).contains(&x),
                    20..30 => (503..515).contains(&x),
                    _ => false,
                };
                let level = if streak && (500..503).contains(&x) {
                    255
                } else if ink {
                    30
                } else {
                    238 + ((x * 7919 + y * 104_729) % 13) as u8
                };
                image::Luma([level])
            })
        };
        assert_eq!(find_streaks(&mut scan(true), None, 300), [501.0]);
        assert_eq!(find_streaks(&mut scan(false), None, 300), Vec::<f32>::new());
        // Flattened to white, the page no longer shows it; the page as scanned does.
        let flat = |image: &GrayImage| {
            GrayImage::from_fn(image.width(), image.height(), |x, y| {
                let p = image.get_pixel(x, y)[0];
                image::Luma([if p < 128 { p } else { 255 }])
            })
        };
        let streaked = scan(true);
        assert!(find_streaks(&mut flat(&streaked), None, 300).is_empty());
        assert_eq!(find_streaks(&mut flat(&streaked), Some(&streaked), 300), [501.0]);
        let gap = scan(false);
        assert!(find_streaks(&mut flat(&gap), Some(&gap), 300).is_empty());
    }

    #[test]
    fn streaks_are_followed_through_turning_unskewing_and_scaling() {
        let size = (1000, 2000);
        let down = streak_lines(&[300.0], size, 0, 0.0, 1.0)[0];
        assert_eq!(
            down,
            Streak {
                across: false,
                at: 300.0,
                slope: 0.0
            }
        );
        assert_eq!(streak_lines(&[300.0], size, 180, 0.0, 1.0)[0].at, 699.0);
        // A quarter turn lays it across the page.
        let across = streak_lines(&[300.0], size, 90, 0.0, 2.0)[0];
        assert_eq!((across.across, across.at), (true, 600.0));
        assert_eq!(streak_lines(&[300.0], size, 270, 0.0, 1.0)[0].at, 699.0);
        // Unskewing leans it: through the page's middle row at the same column, ~17 pixels off
        // 1000 rows away at 1 degree.
        let leant = streak_lines(&[300.0], size, 0, 1.0, 1.0)[0];
        assert!((leant.at + leant.slope * 1000.0 - 300.0).abs() < 0.01);
        assert!((leant.slope + 0.01745).abs() < 0.0001, "{leant:?}");
        // It crosses the words it passes through, give or take its width.
        assert!(down.crosses([280, 10, 320, 40]));
        assert!(down.crosses([302, 10, 340, 40]));
        assert!(!down.crosses([310, 10, 340, 40]));
        assert!(across.crosses([10, 590, 60, 620]) && !across.crosses([10, 300, 60, 330]));
    }

    #[test]
    fn a_shaded_box_behind_black_text_is_flattened_not_taken_for_faint_ink() {
        // A real page's patient line printed on a light gray bar, as records systems print it.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/samples/scan-lab.png");
        let mut shaded = image::open(path).unwrap().into_luma8();
        let (rows, columns) = (290..800, 200..2350);
        for (x, y, p) in shaded.enumerate_pixels_mut() {
            if rows.contains(&y) && columns.contains(&x) {
                p[0] = p[0].min(200);
            }
        }
        assert!(normalize_contrast(&mut shaded));
        // The bar's right part holds no text; its darkest pixels are the text's.
        let fill = (2000..2300).map(|x| shaded.get_pixel(x, 420)[0]).min().unwrap();
        let text = rows
            .flat_map(|y| columns.clone().map(move |x| (x, y)))
            .map(|(x, y)| shaded.get_pixel(x, y)[0])
            .min()
            .unwrap();
        assert!(fill > 225, "the fill is flattened to paper: {fill}");
        assert!(text < 60, "the text on it stays black: {text}");
    }

    #[test]
    fn a_page_of_one_dark_line_with_soft_edges_is_not_faint() {
        // The last lines of a letter: dark ink, its edges softened by blur and JPEG, on a page
        // otherwise empty. Less than one pixel in 200 is ink.
        let mut sparse = GrayImage::from_pixel(1700, 2200, image::Luma([240]));
        for x in 170..1530 {
            if x % 90 > 70 {
                continue; // between words
            }
            for y in 295..322 {
                let core = (300..312).contains(&y);
                sparse.put_pixel(x, y, image::Luma([if core { 40 } else { 170 }]));
            }
        }
        let mut copy = sparse.clone();
        assert!(!normalize_contrast(&mut copy), "left alone");
        assert_eq!(copy, sparse);
    }

    #[test]
    fn resolution_is_normalised_and_estimated_from_text_height_when_missing() {
        let config = PreprocessConfig {
            deskew: false,
            ..everything()
        };
        // 600 dpi down to 300.
        let big = prepare(page(2400, 3000, 40, 0, 255), Some(600), &config, &mut never);
        assert_eq!(
            (big.dpi, big.image.dimensions(), big.dpi_estimated),
            (300, (1200, 1500), false)
        );
        // 150 dpi up to 300.
        let small = prepare(page(600, 800, 10, 0, 255), Some(150), &config, &mut never);
        assert_eq!((small.dpi, small.image.dimensions()), (300, (1200, 1600)));
        // No dpi: lines 45 px tall read as about 300 dpi, and the page is left at its size.
        let unknown = prepare(page(1700, 2200, 45, 0, 255), None, &config, &mut never);
        assert!(unknown.dpi_estimated);
        assert!((250..=350).contains(&unknown.dpi), "{}", unknown.dpi);
        assert_eq!(unknown.image.dimensions(), (1700, 2200));
        // A declared 72 dpi on a page 2200 pixels tall (30 inches) is not believed: estimated.
        let stamped = prepare(page(1700, 2200, 45, 0, 255), Some(72), &config, &mut never);
        assert!(stamped.dpi_estimated);
        assert!((250..=350).contains(&stamped.dpi), "{}", stamped.dpi);
        assert_eq!(stamped.image.dimensions(), (1700, 2200));
        // Everything off: the page goes through untouched.
        let off = PreprocessConfig::off();
        let raw = page(600, 800, 10, 90, 160);
        let through = prepare(raw.clone(), Some(150), &off, &mut never);
        assert_eq!((through.image, through.dpi), (raw, 150));
    }
}
