// The web UI is embedded with include_dir!, which cargo cannot see into: rebuild when
// anything under assets/ (or the schema steps) changes.
fn main() {
    println!("cargo:rerun-if-changed=assets");
    println!("cargo:rerun-if-changed=src/store");
}
