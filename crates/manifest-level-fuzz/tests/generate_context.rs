//! The generate context over 1,000,000 generated ops (generation only): its counter
//! invariants after every op, exact fallback accounting, and every fallback branch taken.

use manifest_level_fuzz::level::generate::{FallbackCounts, GenerateContext, Params};
use manifest_level_fuzz::level::ops::{FuzzOp, OpKind, Weights};
use manifest_level_fuzz::support::prng::Prng;

/// Generates `count` ops for `seed`, checking after each op: the invariants, that the op
/// also validates against an independent context, and that a fallback counter moved
/// exactly when the op's kind differs from the drawn one. Returns the fallback counts.
fn generate_checked(seed: u64, count: usize, params: &Params) -> FallbackCounts {
    let mut prng = Prng::from_seed(seed);
    let mut context = GenerateContext::new(params);
    let mut validator = GenerateContext::new(params);
    for index in 0..count {
        let drawn = Weights::SEED.draw(&mut prng);
        let before = total(context.fallbacks());
        let op = context.next(&mut prng, drawn);
        let fell_back = total(context.fallbacks()) != before;
        assert_eq!(
            fell_back,
            op.kind() != drawn,
            "seed {seed} op {index}: drew {drawn}, got {op}, fallback counted: {fell_back}"
        );
        assert!(context.invisible() <= context.inserted());
        assert!(context.invisible() + context.updated() <= context.inserted());
        assert!(context.inserted() <= params.table_count_max);
        if let Some(n) = op.count() {
            assert!(n >= 1);
        }
        if let FuzzOp::InsertTables { count } = op {
            assert!(count <= params.insert_count_max);
        }
        validator
            .apply(index, &op)
            .unwrap_or_else(|invalid| panic!("seed {seed}: {invalid}"));
        assert_eq!(
            (context.inserted(), context.updated(), context.invisible()),
            (
                validator.inserted(),
                validator.updated(),
                validator.invisible()
            )
        );
    }
    *context.fallbacks()
}

fn total(fallbacks: &FallbackCounts) -> u64 {
    fallbacks.named().iter().map(|(_, count)| count).sum()
}

#[test]
fn a_million_ops_hit_every_fallback() {
    // The seed's 1024-table level rarely fills up, so some seeds use smaller levels
    // (where the "no room" fallbacks happen); 100 seeds x 10,000 ops in all.
    const TABLE_COUNT_MAX: [u32; 5] = [1024, 1024, 64, 12, 1];
    let mut all = FallbackCounts::default();
    let mut ops = 0;
    for seed in 0..100u64 {
        let params = Params::with_table_count_max(TABLE_COUNT_MAX[seed as usize % 5]);
        all.merge(&generate_checked(seed, 10_000, &params));
        ops += 10_000;
    }
    assert_eq!(ops, 1_000_000);
    println!("fallbacks over {ops} ops:");
    for (name, count) in all.named() {
        println!("  {name:36} {count}");
    }
    for (name, count) in all.named() {
        assert!(count > 0, "fallback {name} never taken");
    }
}

#[test]
fn default_params_reach_their_fallbacks() {
    // With the seed's own parameters, the fallbacks of an emptied level are common.
    let mut all = FallbackCounts::default();
    for seed in 0..10 {
        all.merge(&generate_checked(seed, 10_000, &Params::default()));
    }
    assert!(all.update_to_insert > 0);
    assert!(all.remove_invisible_to_insert > 0);
    assert!(all.remove_invisible_to_update > 0);
    assert!(all.remove_invisible_to_take_snapshot > 0);
    assert!(all.remove_visible_to_insert > 0);
}

#[test]
fn every_kind_is_drawn_and_generated() {
    let mut prng = Prng::from_seed(11);
    let mut context = GenerateContext::new(&Params::default());
    let mut seen = [0u32; 5];
    for _ in 0..10_000 {
        let kind = Weights::SEED.draw(&mut prng);
        seen[context.next(&mut prng, kind).kind().index()] += 1;
    }
    for kind in OpKind::FAITHFUL {
        assert!(seen[kind.index()] > 100, "{kind} almost never generated");
    }
    // Inserts are the most frequent, as their weight (8 of 22) and the fallbacks say.
    assert!(seen[0] > seen[1] && seen[0] > seen[2]);
}
