//! Docker Swarm: `timmy deploy` and the commands that recognise a deployed stack.

pub mod converge;
pub mod invoke;
