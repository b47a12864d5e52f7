//! tower layers for brownout (work in progress).
