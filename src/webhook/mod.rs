//! The validating admission webhook (to be written).
