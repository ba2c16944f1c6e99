fn main() {
    print!("{}", stance::api::crds_yaml().unwrap());
}
