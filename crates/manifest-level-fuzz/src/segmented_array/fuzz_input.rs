//! libFuzzer inputs: a [`Trace`] as bytes and back (decoding needs the `arbitrary`
//! feature). Every byte string decodes, so the coverage-guided fuzzer explores op lists,
//! not parse errors.

use super::element::ElementKind;
use super::ops::{Op, Position};
use super::trace::Trace;

/// The most ops a fuzz input decodes to (`Trace::from_fuzz_input`).
pub const INPUT_OPS_MAX: usize = 256;

pub(super) fn encode_position(position: &Position, bytes: &mut Vec<u8>) {
    match *position {
        Position::Start => bytes.push(0),
        Position::End => bytes.push(1),
        Position::Index(index) => {
            bytes.push(2);
            bytes.extend(index.to_le_bytes());
        }
        Position::Boundary { node, delta } => {
            bytes.push(3);
            bytes.extend(node.to_le_bytes());
            bytes.extend(delta.to_le_bytes());
        }
        Position::Past(n) => {
            bytes.push(4);
            bytes.push(n);
        }
    }
}

pub(super) fn encode_op(op: &Op, bytes: &mut Vec<u8>) {
    bytes.push(op.kind_index() as u8);
    match *op {
        Op::Insert { at } | Op::Remove { at } => encode_position(&at, bytes),
        Op::InsertSlice { at, count }
        | Op::RemoveRange { at, count }
        | Op::Cursors { at, count } => {
            encode_position(&at, bytes);
            bytes.extend(count.to_le_bytes());
        }
        Op::InsertSorted { count, key, spread } => {
            bytes.extend(count.to_le_bytes());
            bytes.extend(key.to_le_bytes());
            bytes.extend(spread.to_le_bytes());
        }
        Op::LowerBound { key } => bytes.extend(key.to_le_bytes()),
        Op::Iterate {
            start,
            len,
            pattern,
        } => {
            encode_position(&start, bytes);
            bytes.extend(len.to_le_bytes());
            bytes.extend(pattern.to_le_bytes());
        }
        Op::Sibling { grow, count } => {
            bytes.push(u8::from(grow));
            bytes.extend(count.to_le_bytes());
        }
        Op::Clear => {}
    }
}

#[cfg(feature = "arbitrary")]
mod decode {
    //! Hand-written `Arbitrary` impls, so that [`Trace::to_fuzz_input`] can invert them
    //! exactly (a unit test checks the round trip).

    use arbitrary::{Arbitrary, Result, Unstructured};

    use super::super::{ElementKind, Faults, Op, Position, Setup, Trace, INPUT_OPS_MAX};

    impl<'a> Arbitrary<'a> for Setup {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Setup> {
            let element = ElementKind::ALL[usize::from(u8::arbitrary(u)?) % 5];
            Ok(Setup {
                element,
                node_size: u32::from(u16::arbitrary(u)?),
                capacity: u32::from(u16::arbitrary(u)?),
                sibling_capacity: u32::from(u16::arbitrary(u)?),
                pool_nodes: u32::arbitrary(u)?,
                sorted: bool::arbitrary(u)?,
                key_max: u64::arbitrary(u)?,
            })
        }
    }

    impl<'a> Arbitrary<'a> for Position {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Position> {
            Ok(match u8::arbitrary(u)? % 5 {
                0 => Position::Start,
                1 => Position::End,
                2 => Position::Index(u32::arbitrary(u)?),
                3 => Position::Boundary {
                    node: u16::arbitrary(u)?,
                    delta: i8::arbitrary(u)?,
                },
                _ => Position::Past(u8::arbitrary(u)?),
            })
        }
    }

    impl<'a> Arbitrary<'a> for Op {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Op> {
            Ok(match usize::from(u8::arbitrary(u)?) % Op::KINDS {
                0 => Op::Insert {
                    at: Position::arbitrary(u)?,
                },
                1 => Op::InsertSlice {
                    at: Position::arbitrary(u)?,
                    count: u16::arbitrary(u)?,
                },
                2 => Op::InsertSorted {
                    count: u16::arbitrary(u)?,
                    key: u64::arbitrary(u)?,
                    spread: u32::arbitrary(u)?,
                },
                3 => Op::Remove {
                    at: Position::arbitrary(u)?,
                },
                4 => Op::RemoveRange {
                    at: Position::arbitrary(u)?,
                    count: u16::arbitrary(u)?,
                },
                5 => Op::LowerBound {
                    key: u64::arbitrary(u)?,
                },
                6 => Op::Cursors {
                    at: Position::arbitrary(u)?,
                    count: u16::arbitrary(u)?,
                },
                7 => Op::Iterate {
                    start: Position::arbitrary(u)?,
                    len: u16::arbitrary(u)?,
                    pattern: u64::arbitrary(u)?,
                },
                8 => Op::Sibling {
                    grow: bool::arbitrary(u)?,
                    count: u16::arbitrary(u)?,
                },
                _ => Op::Clear,
            })
        }
    }

    pub(super) fn decode_trace(u: &mut Unstructured<'_>) -> Trace {
        // Integers read from exhausted input are zero, so none of these fail.
        let setup = Setup::arbitrary(u)
            .expect("decoding never fails")
            .for_fuzz_input();
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < INPUT_OPS_MAX {
            ops.push(Op::arbitrary(u).expect("decoding never fails"));
        }
        Trace::of(setup, Faults::default(), ops)
    }

    impl<'a> Arbitrary<'a> for Trace {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Trace> {
            Ok(decode_trace(u))
        }

        fn arbitrary_take_rest(mut u: Unstructured<'a>) -> Result<Trace> {
            Ok(decode_trace(&mut u))
        }
    }
}

impl Trace {
    /// Encodes the trace as the bytes `Trace::from_fuzz_input` decodes back to it: the
    /// setup's fields, then each op, as fixed-width little-endian integers with one tag
    /// byte per enum. The setup should be normalized (normalized setups fit the field
    /// widths exactly).
    pub fn to_fuzz_input(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let setup = &self.setup();
        let element = ElementKind::ALL
            .iter()
            .position(|&kind| kind == setup.element)
            .expect("listed");
        bytes.push(element as u8);
        bytes.extend((setup.node_size.min(u32::from(u16::MAX)) as u16).to_le_bytes());
        bytes.extend((setup.capacity.min(u32::from(u16::MAX)) as u16).to_le_bytes());
        bytes.extend((setup.sibling_capacity.min(u32::from(u16::MAX)) as u16).to_le_bytes());
        bytes.extend(setup.pool_nodes.to_le_bytes());
        bytes.push(u8::from(setup.sorted));
        bytes.extend(setup.key_max.to_le_bytes());
        for op in &self.ops {
            encode_op(op, &mut bytes);
        }
        bytes
    }

    /// Decodes fuzzer bytes: a [`Setup`] (passed through [`Setup::for_fuzz_input`]), then
    /// ops until the bytes or [`INPUT_OPS_MAX`] run out. Every byte string decodes
    /// (missing bytes read as zero).
    ///
    /// [`Setup`]: super::Setup
    /// [`Setup::for_fuzz_input`]: super::Setup::for_fuzz_input
    #[cfg(feature = "arbitrary")]
    pub fn from_fuzz_input(bytes: &[u8]) -> Trace {
        let mut input = arbitrary::Unstructured::new(bytes);
        decode_trace(&mut input)
    }
}

#[cfg(feature = "arbitrary")]
use decode::decode_trace;
