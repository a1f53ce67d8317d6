"""Generators of the small test corpus: PDFs made with fpdf2 (pypdf for encryption and page
labels) and plain-text notes. Nothing here is a test; conftest.py calls `make_corpus`.

Every document is about one clear clinical topic so retrieval tests know which file must win.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

# ---- texts -----------------------------------------------------------------------------------
PNEUMONIA = (
    "Community-acquired pneumonia severity is assessed with the CURB-65 score: confusion, "
    "urea above 7 mmol/L, respiratory rate of 30 or more, low blood pressure and age 65 or "
    "older. A CURB-65 score of 2 suggests hospital admission, and a score of 3 or more "
    "suggests severe pneumonia that may need intensive care. Chest radiography confirms "
    "the consolidation."
)
WARFARIN = (
    "Warfarin anticoagulation is monitored with the international normalized ratio (INR). "
    "For atrial fibrillation and venous thromboembolism the INR target is 2.0 to 3.0. "
    "Mechanical mitral valves need a higher INR target of 2.5 to 3.5. Check the INR weekly "
    "until it is stable, then every four to twelve weeks. Vitamin K reverses warfarin."
)
METFORMIN_SENTENCES = [
    "Metformin is the first-line oral drug for type 2 diabetes mellitus.",
    "Kidney function decides the dose: review the eGFR before starting metformin.",
    "Reduce the metformin dose when the eGFR falls below 45 mL/min per 1.73 m2.",
    "Stop metformin when the eGFR is below 30 mL/min per 1.73 m2 because of the risk of "
    "lactic acidosis.",
    "Gastrointestinal side effects such as diarrhoea and nausea are common at the start.",
    "Modified-release tablets taken with the evening meal are better tolerated.",
    "Vitamin B12 deficiency can develop during long-term treatment and should be checked.",
    "Withhold metformin before iodinated contrast in patients with reduced kidney function.",
    "HbA1c is measured every three to six months to judge glycaemic control.",
    "Add a second agent when HbA1c stays above the individual target despite adherence.",
]
# Page 3 is long on purpose: it needs several overlapping chunks.
METFORMIN_LONG = " ".join(METFORMIN_SENTENCES * 4)

ASTHMA = (
    "Asthma control is improved by a daily inhaled corticosteroid such as budesonide. "
    "Patients who still have symptoms add a long-acting beta agonist to the inhaled "
    "corticosteroid. A short-acting bronchodilator relieves acute wheeze."
)
HYPERTENSION = (
    "Hypertension treatment starts with an ACE inhibitor such as ramipril in most adults "
    "under 55. Check potassium and creatinine two weeks after starting the ACE inhibitor. "
    "Amlodipine is added when blood pressure stays above target."
)
TABLE_ROWS = [
    ("Drug", "Adult dose", "Renal adjustment"),
    ("Amoxicillin", "500 mg every 8 hours", "reduce if eGFR below 30"),
    ("Doxycycline", "100 mg every 12 hours", "none needed"),
    ("Clarithromycin", "500 mg every 12 hours", "halve if eGFR below 30"),
]
GOUT = (
    "Acute gout flares respond to colchicine 500 micrograms two to four times daily or to an "
    "oral NSAID. Allopurinol lowers serum urate over the long term and is started after the "
    "flare settles, aiming for a urate below 360 micromol/L."
)
SECRET = (
    "Confidential lithium monitoring plan: keep the serum lithium level between 0.4 and 1.0 "
    "mmol/L and check thyroid function every six months."
)
OWNER_ONLY = (
    "Hyperkalaemia above 6.5 mmol/L needs intravenous calcium gluconate to protect the heart, "
    "then insulin with glucose to shift potassium into the cells."
)
LABELLED = [
    "Preface of the sepsis handbook. This front matter explains how the chapters are organized "
    "and who wrote them.",
    "Contents of the sepsis handbook: recognition, antibiotics, fluids and vasopressors are "
    "covered in the following chapters.",
    "Sepsis bundle: give broad-spectrum antibiotics within one hour and 30 mL/kg of "
    "crystalloid for hypotension or a lactate of 4 mmol/L or more.",
    "Norepinephrine is the first vasopressor when the mean arterial pressure stays below "
    "65 mmHg after fluid resuscitation in septic shock.",
]
# Written in cp1252: the degree sign and the e-acute are single bytes that are invalid UTF-8.
CP1252_NOTE = (
    "Fièvre du patient: temperature 39.2 °C this morning after the café visit. "
    "Febrile neutropenia protocol: start piperacillin-tazobactam within one hour when the "
    "temperature is above 38.0 °C and neutrophils are below 0.5."
)
MD_NOTE = (
    "# Anaphylaxis\n\n"
    "Give intramuscular adrenaline 0.5 mg (0.5 mL of 1 mg/mL) into the anterolateral thigh "
    "for anaphylaxis in adults. Repeat after 5 minutes if there is no improvement.\n\n"
    "* Lie the patient flat and raise the legs.\n* Give high-flow oxygen.\n"
)


# ---- builders --------------------------------------------------------------------------------
def _pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font("Helvetica", size=11)
    return pdf


def _text_pdf(pages: list[str]) -> FPDF:
    pdf = _pdf()
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return pdf


def write_multipage(path: Path) -> Path:
    """Three pages, one topic each: pneumonia (1), warfarin INR 2.0-3.0 (2), metformin (3)."""
    _text_pdf([PNEUMONIA, WARFARIN, METFORMIN_LONG]).output(str(path))
    return path


def write_two_column(path: Path) -> Path:
    """One page with an asthma column on the left and a hypertension column on the right."""
    pdf = _pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, "Respiratory and cardiovascular notes", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    top = pdf.get_y() + 2
    pdf.set_xy(10, top)
    pdf.multi_cell(90, 5, ASTHMA)
    pdf.set_xy(110, top)
    pdf.multi_cell(90, 5, HYPERTENSION)
    pdf.output(str(path))
    return path


def write_table(path: Path) -> Path:
    """A dosing table drawn with fpdf2's table()."""
    pdf = _pdf()
    pdf.add_page()
    pdf.multi_cell(0, 6, "Antibiotic dosing table for community-acquired infections in adults.")
    pdf.ln(2)
    with pdf.table() as table:
        for row in TABLE_ROWS:
            r = table.row()
            for cell in row:
                r.cell(cell)
    pdf.output(str(path))
    return path


def _encrypt(src: bytes, path: Path, *, user: str, owner: str) -> Path:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(src)))
    writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-128")
    with path.open("wb") as f:
        writer.write(f)
    return path


def write_encrypted_user_password(path: Path) -> Path:
    """Encrypted with a user password: cannot be read without it."""
    return _encrypt(bytes(_text_pdf([SECRET]).output()), path, user="s3cret", owner="owner-pw")


def write_encrypted_owner_only(path: Path) -> Path:
    """Encrypted with an empty user password and an owner password: opens without a password."""
    return _encrypt(bytes(_text_pdf([OWNER_ONLY]).output()), path, user="", owner="owner-pw")


def write_corrupt(path: Path) -> Path:
    """A %PDF header followed by garbage: not a readable PDF."""
    garbage = bytes((i * 7919 + 13) % 251 for i in range(4000))
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + garbage)
    return path


def write_truncated(path: Path) -> Path:
    """A real PDF cut after its first 300 bytes (header and part of the first object)."""
    data = bytes(_text_pdf([GOUT]).output())
    path.write_bytes(data[:300])
    return path


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    """A small RGB PNG (a colour gradient) written by hand with zlib and struct."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(((x * 4) % 256, (y * 4) % 256, 128)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def write_image_only(path: Path) -> Path:
    """Two pages with an image and shapes but no text at all (like a scan)."""
    pdf = _pdf()
    for _ in range(2):
        pdf.add_page()
        pdf.image(io.BytesIO(png_bytes()), x=20, y=20, w=120)
        pdf.set_fill_color(200, 200, 200)
        pdf.rect(20, 160, 150, 40, style="DF")
    pdf.output(str(path))
    return path


def write_page_labels(path: Path) -> Path:
    """Four pages labelled i, ii, 1, 2 (roman front matter, then arabic)."""
    data = bytes(_text_pdf(LABELLED).output())
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.set_page_label(0, 1, style="/r", start=1)
    writer.set_page_label(2, 3, style="/D", start=1)
    with path.open("wb") as f:
        writer.write(f)
    return path


def write_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def write_cp1252_note(path: Path) -> Path:
    path.write_bytes(CP1252_NOTE.encode("cp1252"))
    return path


def write_md_note(path: Path) -> Path:
    path.write_text(MD_NOTE, encoding="utf-8")
    return path


@dataclass(frozen=True)
class Corpus:
    """Paths of the generated documents (all directly inside `folder`)."""

    folder: Path
    multipage: Path
    two_column: Path
    table: Path
    encrypted_user: Path
    encrypted_owner: Path
    corrupt: Path
    truncated: Path
    image_only: Path
    page_labels: Path
    empty_pdf: Path
    cp1252_note: Path
    md_note: Path
    empty_note: Path

    @property
    def good(self) -> list[Path]:
        """Documents that must index fully."""
        return [self.multipage, self.two_column, self.table, self.encrypted_owner,
                self.page_labels, self.cp1252_note, self.md_note]

    @property
    def bad(self) -> list[Path]:
        """Documents that must fail (each with a readable reason)."""
        return [self.encrypted_user, self.corrupt, self.truncated, self.image_only,
                self.empty_pdf, self.empty_note]


def make_corpus(folder: Path) -> Corpus:
    """Write every test document into `folder` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Corpus(
        folder=folder,
        multipage=write_multipage(folder / "multipage.pdf"),
        two_column=write_two_column(folder / "two_column.pdf"),
        table=write_table(folder / "table.pdf"),
        encrypted_user=write_encrypted_user_password(folder / "encrypted_user.pdf"),
        encrypted_owner=write_encrypted_owner_only(folder / "encrypted_owner.pdf"),
        corrupt=write_corrupt(folder / "corrupt.pdf"),
        truncated=write_truncated(folder / "truncated.pdf"),
        image_only=write_image_only(folder / "image_only.pdf"),
        page_labels=write_page_labels(folder / "page_labels.pdf"),
        empty_pdf=write_empty(folder / "empty.pdf"),
        cp1252_note=write_cp1252_note(folder / "fever_cp1252.txt"),
        md_note=write_md_note(folder / "anaphylaxis.md"),
        empty_note=write_empty(folder / "empty.txt"),
    )
