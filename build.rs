// Rebuild when a migration is added: `sqlx::migrate!` does not notice new files.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=rules");
}
