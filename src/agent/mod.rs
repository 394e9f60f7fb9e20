pub mod config;
pub mod files;
pub mod key_file;
pub mod schedule;
pub mod status_api;
pub mod status_text;
pub mod usage;
