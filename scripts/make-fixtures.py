#!/usr/bin/env python3
"""Generate chartscan's test fixtures and sample scans. Everything is synthetic: the patients,
facilities and clinicians below are invented and resemble no real person.

    python3 scripts/make-fixtures.py        # rewrites fixtures/samples and fixtures/formats

Needs Pillow (with libtiff and FreeType, as in its wheels), the DejaVu fonts (fonts-dejavu-core)
and qpdf for the encrypted PDFs. The outputs are committed; CI does not run this script.

fixtures/samples/  full pages a records office would scan, for the README's demo run and the
                   real-Tesseract tests.
fixtures/formats/  small pages in every container and compression chartscan reads, plus bad
                   input that cannot be made by cutting a good file (the tests cut files
                   themselves).
"""
from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

from PIL import Image, ImageDraw, ImageFont, ImageOps

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

DISCHARGE = [
    ("b", "RIVERBEND COMMUNITY HOSPITAL"),
    ("", "Health Information Management - 12 Mill Race Rd, Riverbend"),
    ("", "PATIENT: WALSH, PETRA      MRN: 448213      DOB: 03/14/1958"),
    ("", "Admit Date: 09/02/2026      Discharge Date: 09/06/2026"),
    ("b", "DISCHARGE SUMMARY"),
    ("", "ADMITTING DIAGNOSIS: Community-acquired pneumonia."),
    ("", "HOSPITAL COURSE: The patient was admitted with fever, productive"),
    ("", "cough and hypoxia. A chest radiograph showed right lower lobe"),
    ("", "consolidation. She was treated with intravenous ceftriaxone and"),
    ("", "azithromycin and improved steadily over four days."),
    ("", "DISCHARGE MEDICATIONS: Amoxicillin 875 mg twice daily for five days."),
    ("", "FOLLOW-UP: Primary care clinic in one week."),
]
DISCHARGE_2 = [
    ("", "WALSH, PETRA   MRN: 448213   Page 2"),
    ("b", "CONDITION AT DISCHARGE"),
    ("", "Stable, afebrile, saturating well on room air."),
    ("", "Electronically signed by Dr. Ines Okafor, Hospitalist."),
]
LAB = [
    ("b", "LAKESHORE CLINICAL LABORATORY"),
    ("", "Name: Brandt, Oskar     DOB: 11/02/1971     MRN: 702519"),
    ("b", "LABORATORY REPORT"),
    ("", "Collected: 10/14/2026 08:12     Specimen: Blood"),
    ("", "Hemoglobin              13.9 g/dL        13.5 - 17.5"),
    ("", "Leukocytes               7.2 10*3/uL     4.5 - 11.0"),
    ("", "Platelets                241 10*3/uL     150 - 400"),
    ("", "Sodium                   139 mmol/L      135 - 145"),
]
REFERRAL = [
    ("b", "HARBOR VIEW FAMILY PRACTICE"),
    ("", "Re: Lindqvist, Mara    DOB: 07/22/1990    MRN: 330871"),
    ("", "Dear Dr. Abernathy,"),
    ("", "Thank you for seeing this pleasant patient with recurrent"),
    ("", "migraine despite preventive treatment. I would value your"),
    ("", "opinion on further neurological management."),
    ("", "Sincerely, Dr. Tomas Reyes"),
]
CONSULT = [
    ("b", "NORTHGATE MEDICAL CENTER"),
    ("", "Patient: Ferreira, Joao     MRN: 915044     DOB: 01/30/1949"),
    ("b", "CONSULTATION"),
    ("", "REASON FOR CONSULTATION: Atrial fibrillation with rapid rate."),
    ("", "ASSESSMENT: Rate control with metoprolol; anticoagulation advised."),
]
PROGRESS = [
    "Pinecrest Internal Medicine",
    "Patient: Nakamura, Aiko    MRN: 561207    DOB: 05/09/1983",
    "PROGRESS NOTE",
    "SUBJECTIVE: Feeling better, cough resolved, no fever.",
    "OBJECTIVE: Lungs clear. Blood pressure 122/78.",
    "PLAN: Continue current medicines. Return in three months.",
]
PROGRESS_2 = [
    "Nakamura, Aiko    MRN: 561207    Page 2 of 2",
    "ALLERGIES: None known.",
    "MEDICATIONS: Lisinopril 10 mg daily, atorvastatin 20 mg nightly.",
    "Electronically signed by Dr. Lena Park.",
]
SHORT = [
    ("b", "SPECIMEN LABEL"),
    ("", "Glucose 5.4 mmol/L fasting"),
    ("", "Sample 44812 received intact"),
]


def render(lines, dpi, width_in=8.5, height_in=11.0, margin_in=0.8, pt=11):
    """A white page with the lines set in DejaVu Sans, as an 8-bit gray image."""
    w, h = int(width_in * dpi), int(height_in * dpi)
    page = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(page)
    size = int(pt * dpi / 72)
    regular, bold = ImageFont.truetype(FONT, size), ImageFont.truetype(FONT_BOLD, size)
    y = int(margin_in * dpi)
    for style, text in lines:
        draw.text((int(margin_in * dpi), y), text, fill=0, font=bold if style == "b" else regular)
        y += int(size * 1.6)
    return page


def small(lines, dpi=300):
    """A short page (5 x 2 inches) for the fast format tests."""
    return render(lines, dpi, width_in=5.0, height_in=2.0, margin_in=0.3, pt=9)


# ----------------------------------------------------------------------------------- PDF writer

class Pdf:
    """Just enough PDF to place one image or a few lines of text on each page."""

    def __init__(self):
        # Objects 1 and 2, the catalog and the page tree, are filled in by write().
        self.objects: list[bytes] = [b"", b""]
        self.pages: list[int] = []

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def stream(self, meta: str, data: bytes) -> int:
        return self.add(f"<< {meta} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream")

    def image_page(self, img_meta: str, data: bytes, cm: str, page_w=612, page_h=792, rotate=0):
        image = self.stream(f"/Type /XObject /Subtype /Image {img_meta}", data)
        content = self.stream("", f"q {cm} cm /Im0 Do Q".encode())
        extra = f" /Rotate {rotate}" if rotate else ""
        self.pages.append(self.add(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_w} {page_h}] /Contents {content} 0 R "
            f"/Resources << /XObject << /Im0 {image} 0 R >> >>{extra} >>".encode()))

    def text_page(self, lines, page_w=612, page_h=792, vector=False):
        font = self.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        ops = ["BT /F1 11 Tf 14 TL 72 720 Td"]
        for line in lines:
            ops.append("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*")
        ops.append("ET")
        if vector:
            ops.append("0 0 0 RG 2 w 72 600 m 540 600 l S 72 560 468 20 re f")
        content = self.stream("", "\n".join(ops).encode("latin-1"))
        self.pages.append(self.add(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_w} {page_h}] /Contents {content} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode()))

    def write(self, path: str):
        self.objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
        kids = " ".join(f"{p} 0 R" for p in self.pages)
        self.objects[1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(self.pages)} >>".encode()
        out = io.BytesIO()
        out.write(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, obj in enumerate(self.objects, 1):
            offsets.append(out.tell())
            out.write(f"{i} 0 obj\n".encode() + obj + b"\nendobj\n")
        xref = out.tell()
        out.write(f"xref\n0 {len(self.objects) + 1}\n0000000000 65535 f \n".encode())
        for off in offsets:
            out.write(f"{off:010d} 00000 n \n".encode())
        out.write(f"trailer\n<< /Size {len(self.objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
        with open(path, "wb") as f:
            f.write(out.getvalue())


def jpeg_bytes(img, quality=85, dpi=300):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    return buf.getvalue()


def g4_strip(img):
    """The CCITT G4 data of a 1-bit image, as one strip. Pillow writes 1-bit TIFFs as
    min-is-black, so paper would be coded as fax "black" runs: invert first."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "g4.tif")
        ImageOps.invert(img.convert("1").convert("L")).convert("1").save(path, compression="group4", tiffinfo={278: img.height})
        tif = Image.open(path)
        off, count = tif.tag_v2[273][0], tif.tag_v2[279][0]
        with open(path, "rb") as f:
            f.seek(off)
            return f.read(count)


def png_predicted(raw_rows, row_len):
    """Rows with PNG 'Up' filtering applied, one filter byte per row."""
    out, prev = bytearray(), bytes(row_len)
    for row in raw_rows:
        out.append(2)
        out.extend((r - p) & 0xFF for r, p in zip(row, prev))
        prev = row
    return bytes(out)


# ----------------------------------------------------------------------------------- outputs

def samples(out):
    os.makedirs(out, exist_ok=True)
    pages = [render(DISCHARGE, 300).convert("1"), render(DISCHARGE_2, 300).convert("1")]
    pages[0].save(os.path.join(out, "scan-discharge.tif"), compression="group4", save_all=True,
                  append_images=pages[1:], dpi=(300, 300))
    render(LAB, 300).save(os.path.join(out, "scan-lab.png"), dpi=(300, 300))
    render(REFERRAL, 200).save(os.path.join(out, "scan-referral.jpg"), quality=80, dpi=(200, 200))
    consult = render(CONSULT, 300)
    pdf = Pdf()
    pdf.image_page(f"/Width {consult.width} /Height {consult.height} /ColorSpace /DeviceGray "
                   "/BitsPerComponent 8 /Filter /DCTDecode", jpeg_bytes(consult), "612 0 0 792 0 0")
    pdf.write(os.path.join(out, "scan-consult.pdf"))
    pdf = Pdf()
    pdf.text_page(PROGRESS)
    pdf.write(os.path.join(out, "born-digital-progress.pdf"))


def libtiff_layouts(out, page):
    """What only libtiff reads: fax compressions, a fax's non-square pixels, a palette, CMYK;
    and a CMYK JPEG in a PDF (Adobe's inverted kind, under a Decode array)."""
    from PIL import TiffImagePlugin
    TiffImagePlugin.WRITE_LIBTIFF = True
    bits = page.convert("1")
    bits.save(os.path.join(out, "g3-1d.tif"), compression="group3", dpi=(300, 300))
    bits.save(os.path.join(out, "g3-2d.tif"), compression="group3", tiffinfo={292: 1}, dpi=(300, 300))
    bits.save(os.path.join(out, "huffman.tif"), compression="tiff_ccitt", dpi=(300, 300))
    w, h = page.size
    half = bits.convert("L").resize((w, h // 2), Image.BOX).point(lambda p: 255 if p > 127 else 0)
    half.convert("1").save(os.path.join(out, "fax-standard.tif"), compression="group3",
                           tiffinfo={292: 1}, dpi=(300, 150))
    page.convert("P").save(os.path.join(out, "palette.tif"), compression="tiff_lzw", dpi=(300, 300))
    page.convert("RGB").convert("CMYK").save(os.path.join(out, "cmyk.tif"), compression="tiff_lzw",
                                             dpi=(300, 300))
    page.convert("CMYK").save(os.path.join(out, "pdf-cmyk-dct.pdf"), resolution=300)
    TiffImagePlugin.WRITE_LIBTIFF = False


def formats(out):
    os.makedirs(out, exist_ok=True)
    page = small(SHORT)
    pages = [small(SHORT), small([("b", "SECOND PAGE"), ("", "Potassium 4.1 mmol/L")]),
             small([("b", "THIRD PAGE"), ("", "Creatinine 81 umol/L")])]
    page.save(os.path.join(out, "gray.png"), dpi=(300, 300))
    page.convert("1").save(os.path.join(out, "bilevel.png"), dpi=(300, 300))
    page.convert("RGB").save(os.path.join(out, "rgb.jpg"), quality=85, dpi=(300, 300))
    for name, mode, compression in [("multi-raw.tif", "1", "raw"), ("multi-lzw.tif", "L", "tiff_lzw"),
                                    ("multi-jpeg.tif", "L", "jpeg"), ("multi-g4.tif", "1", "group4")]:
        imgs = [p.convert(mode) for p in pages]
        imgs[0].save(os.path.join(out, name), compression=compression, save_all=True,
                     append_images=imgs[1:], dpi=(300, 300))

    libtiff_layouts(out, page)

    w, h = page.size
    pdf = Pdf()
    pdf.image_page(f"/Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode",
                   jpeg_bytes(page), f"{w * 72 / 300} 0 0 {h * 72 / 300} 0 0", w * 72 / 300, h * 72 / 300)
    pdf.write(os.path.join(out, "pdf-dct.pdf"))

    pdf = Pdf()
    pdf.image_page(f"/Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
                   zlib.compress(page.tobytes()), f"{w * 72 / 300} 0 0 {h * 72 / 300} 0 0", w * 72 / 300, h * 72 / 300)
    pdf.write(os.path.join(out, "pdf-flate-gray.pdf"))

    bits = page.convert("1")
    row_len = (w + 7) // 8
    raw = bits.tobytes()
    rows = [raw[i * row_len:(i + 1) * row_len] for i in range(h)]
    pdf = Pdf()
    pdf.image_page(f"/Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode "
                   f"/DecodeParms << /Predictor 15 /Columns {w} /Colors 1 /BitsPerComponent 1 >>",
                   zlib.compress(png_predicted(rows, row_len)), f"{w * 72 / 300} 0 0 {h * 72 / 300} 0 0",
                   w * 72 / 300, h * 72 / 300)
    pdf.write(os.path.join(out, "pdf-flate-1bit-predictor.pdf"))

    pdf = Pdf()
    g4_meta = (f"/Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode "
               f"/DecodeParms << /K -1 /Columns {w} /Rows {h} /BlackIs1 false >>")
    pdf.image_page(g4_meta, g4_strip(page), f"{w * 72 / 300} 0 0 {h * 72 / 300} 0 0", w * 72 / 300, h * 72 / 300)
    # The same page scanned sideways: drawn a quarter turn, then shown upright by /Rotate.
    pw, ph = w * 72 / 300, h * 72 / 300
    pdf.image_page(g4_meta, g4_strip(page), f"0 {pw} {-ph} 0 {ph} 0", ph, pw, rotate=90)
    pdf.write(os.path.join(out, "pdf-ccitt-two-pages.pdf"))

    pdf = Pdf()
    pdf.text_page(PROGRESS)
    pdf.text_page(PROGRESS_2)
    pdf.write(os.path.join(out, "pdf-text.pdf"))

    pdf = Pdf()
    pdf.text_page(["Fax"], vector=True)
    pdf.write(os.path.join(out, "pdf-vector.pdf"))

    plain = os.path.join(out, "pdf-dct.pdf")
    subprocess.run(["qpdf", "--encrypt", "", "owner-secret", "256", "--",
                    plain, os.path.join(out, "pdf-owner-password.pdf")], check=True)
    subprocess.run(["qpdf", "--encrypt", "user-secret", "owner-secret", "256", "--",
                    plain, os.path.join(out, "pdf-user-password.pdf")], check=True)

    # A decompression bomb: a tiny, valid PNG declaring 20000 x 20000 pixels.
    side = 20000
    comp, idat = zlib.compressobj(9), bytearray()
    row = b"\x00" + bytes(side // 8)
    for _ in range(side):
        idat += comp.compress(row)
    idat += comp.flush()

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)) \
        + chunk(b"IDAT", bytes(idat)) + chunk(b"IEND", b"")
    with open(os.path.join(out, "bomb.png"), "wb") as f:
        f.write(png)


def main():
    if shutil.which("qpdf") is None:
        sys.exit("qpdf is needed for the encrypted PDFs: apt-get install qpdf")
    samples(os.path.join(ROOT, "samples"))
    formats(os.path.join(ROOT, "formats"))
    for sub in ("samples", "formats"):
        for name in sorted(os.listdir(os.path.join(ROOT, sub))):
            print(f"{sub}/{name}  {os.path.getsize(os.path.join(ROOT, sub, name))} bytes")


if __name__ == "__main__":
    main()
