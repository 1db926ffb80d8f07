//! The poppler command-line tools, the only subprocesses chartscan runs: `pdftotext` for text
//! layers and `pdftoppm` to rasterise pages that hold no single page image.
//!
//! Every call runs under a timeout and is killed when it runs over. `pdftoppm` writes raw PGM to
//! a pipe: asking it for PNG costs ~40x the CPU in compression alone.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::model::{ErrorKind, Failure};

/// Text of every page as `pdftotext -layout` extracts it: lines as they sit on the page, so a
/// table row stays one line (the default reading-order mode emits tables column by column:
/// 28% character error on the dev corpus's lab reports against 0% with `-layout`).
pub fn page_texts(pdf: &Path, timeout: Duration) -> Result<Vec<String>, Failure> {
    let out = run(
        "pdftotext",
        &["-q", "-layout", "-enc", "UTF-8", &pdf.to_string_lossy(), "-"],
        timeout,
    )?;
    let text = String::from_utf8_lossy(&out);
    let mut pages: Vec<String> = text
        .split('\u{c}')
        .map(|page| page.lines().map(str::trim_end).collect::<Vec<_>>().join("\n"))
        .collect();
    // pdftotext ends every page, the last included, with a form feed.
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    Ok(pages)
}

/// Page `page_no` (1-based) rendered to 8-bit gray at `dpi`.
pub fn rasterize(
    pdf: &Path,
    page_no: usize,
    dpi: u32,
    timeout: Duration,
) -> Result<image::GrayImage, Failure> {
    let page = page_no.to_string();
    let dpi = dpi.to_string();
    let out = run(
        "pdftoppm",
        &[
            "-q",
            "-gray",
            "-r",
            &dpi,
            "-f",
            &page,
            "-l",
            &page,
            &pdf.to_string_lossy(),
        ],
        timeout,
    )?;
    parse_pgm(&out).map_err(|message| Failure::pdf(ErrorKind::Tool, format!("pdftoppm: {message}")))
}

fn run(tool: &str, args: &[&str], timeout: Duration) -> Result<Vec<u8>, Failure> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                " (install poppler-utils)"
            } else {
                ""
            };
            Failure::pdf(ErrorKind::Tool, format!("cannot run {tool}: {e}{hint}"))
        })?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::pdf(
                ErrorKind::Tool,
                format!("{tool} timed out after {} s", timeout.as_secs()),
            ));
        }
        Err(e) => {
            return Err(Failure::pdf(ErrorKind::Tool, format!("waiting for {tool}: {e}")));
        }
    };
    let out = out_reader
        .join()
        .map_err(|_| Failure::pdf(ErrorKind::Tool, format!("{tool}: output reader panicked")))?
        .map_err(|e| Failure::pdf(ErrorKind::Tool, format!("{tool}: reading output: {e}")))?;
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        let first_line = err.lines().next().unwrap_or("").trim();
        return Err(Failure::pdf(
            ErrorKind::Tool,
            format!(
                "{tool} failed ({status}){}{first_line}",
                if first_line.is_empty() { "" } else { ": " }
            ),
        ));
    }
    Ok(out)
}

/// Parses a binary 8-bit PGM (`P5`).
fn parse_pgm(bytes: &[u8]) -> Result<image::GrayImage, String> {
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if bytes.get(pos) == Some(&b'#') {
            while pos < bytes.len() && bytes[pos] != b'\n' {
                pos += 1;
            }
            continue;
        }
        let start = pos;
        while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if start == pos {
            return Err("output ends inside the PGM header".to_string());
        }
        fields.push(String::from_utf8_lossy(&bytes[start..pos]).into_owned());
    }
    pos += 1; // the single whitespace byte before the raster
    if fields[0] != "P5" {
        return Err(format!("expected a P5 image, got {:?}", fields[0]));
    }
    let number = |s: &str| {
        s.parse::<u32>()
            .map_err(|_| format!("bad PGM header field {s:?}"))
    };
    let (width, height, maxval) = (number(&fields[1])?, number(&fields[2])?, number(&fields[3])?);
    if maxval != 255 {
        return Err(format!("expected 8-bit gray, got maxval {maxval}"));
    }
    let len = width as usize * height as usize;
    let raster = bytes
        .get(pos..pos + len)
        .ok_or_else(|| "output ends inside the raster".to_string())?;
    image::GrayImage::from_raw(width, height, raster.to_vec()).ok_or_else(|| "bad raster size".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pgm_with_comment() {
        let mut bytes = b"P5\n# made by a test\n3 2\n255\n".to_vec();
        bytes.extend_from_slice(&[0, 1, 2, 3, 4, 5]);
        let image = parse_pgm(&bytes).unwrap();
        assert_eq!(image.dimensions(), (3, 2));
        assert_eq!(image.get_pixel(2, 1).0, [5]);
    }

    #[test]
    fn short_pgm_is_an_error() {
        let bytes = b"P5\n3 2\n255\n\x00\x01".to_vec();
        assert!(parse_pgm(&bytes).is_err());
        assert!(parse_pgm(b"P6\n1 1\n255\n\x00\x00\x00").is_err());
    }
}
