//! chartscan's integration tests: one binary, driving the real `chartscan` executable against
//! throw-away archives. The fast tests use the fake OCR engine; `tesseract` holds the few that
//! run real Tesseract on small fixtures.

mod harness;

mod bad_input;
mod audit;
mod classify;
mod ingest;
mod patients;
mod queries;
mod reindex;
mod tesseract;
mod watch;
