//! chartscan: scanned paper medical records into an indexed, searchable SQLite archive.
//!
//! The modules are listed in the order data flows through them; `pipeline` is the only one that
//! knows that order. See the README's Architecture section for the map.

pub mod config;
pub mod model;

pub mod intake;
pub mod decode;
mod dynlib;
pub mod ocr;
pub mod preprocess;
pub mod cover;
pub mod identify;
pub mod segment;
pub mod classify;
pub mod archive;

pub mod pipeline;
pub mod cli;
