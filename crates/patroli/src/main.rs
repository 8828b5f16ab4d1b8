fn main() {
    println!("patroli {}", env!("CARGO_PKG_VERSION"));
}
