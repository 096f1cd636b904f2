//! Keys of `.env` one or two letters away from a key of `.env.example`.

use rustc_hash::FxHashSet;

use super::{EXAMPLE_FILE, Findings, Input, is_plain_key};
use crate::dotenv::Entry;
use crate::secrets;

/// Keys of `.env` that are not in `.env.example` (set or commented out) but one or two
/// letters away from a key that is: `GITHUB_TOKNE` is read by nobody.
pub(super) fn check_typos(out: &mut Findings, input: &Input, entries: &[Entry]) {
    let Some(example) = input.example_text else {
        return;
    };
    let known = example_keys(example);
    let names: Vec<Name> = known.iter().map(|k| Name::new(k)).collect();
    let mut reported = FxHashSet::default();
    for e in entries {
        // Length and characters first, without building the name: most keys of a long
        // `.env` are near no example key, and those need no other test.
        let (len, present) = Name::outline(&e.key);
        if e.key.is_empty()
            || !names.iter().any(|k| k.may_be_near(len, present))
            || known.contains(&e.key)
            || secrets::looks_like_pasted_data(&e.key, &e.value)
            || !reported.insert(e.key.as_str())
        {
            continue;
        }
        // Also when .env sets the near name too: a fresh .env keeps the example's placeholder
        // under the right name while the real value goes in under the misspelt one.
        let key = Name::new(&e.key);
        let near = names
            .iter()
            .filter(|k| key.is_likely_typo_of(k))
            .min_by_key(|k| edit_distance(&key.upper, &k.upper))
            .map(|k| k.upper.as_str());
        if let Some(near) = near {
            out.warn(
                input.env_file,
                Some(e.line),
                format!("{} is not in {EXAMPLE_FILE}: did you mean {near}?", e.key),
                Some(format!("rename it to {near}; nothing reads {}", e.key)),
            );
        }
    }
}

/// Keys `.env.example` sets, and those it shows commented out (`#REDIS_HOST=redis`).
pub(super) fn example_keys(example: &str) -> Vec<String> {
    example
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix('#').unwrap_or(line).trim_start();
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (key, _) = line.split_once('=')?;
            is_plain_key(key).then(|| key.to_owned())
        })
        .collect()
}

/// One edit (two for names of 8 characters or more), counting a swap of neighbours as one:
/// close enough to be a slip, far enough that `REDIS_PORT` is not `REDIS_HOST`.
#[cfg(test)]
pub(super) fn is_likely_typo(key: &str, known: &str) -> bool {
    Name::new(key).is_likely_typo_of(&Name::new(known))
}

/// A key name as the typo check compares it: upper-cased, its length in characters, and how
/// often each character occurs (ASCII by code, anything else in one bucket). One edit changes
/// those counts by at most 2 in all, so two names whose counts differ by more than twice the
/// allowed edits cannot be that close: most unrelated names (a 10,000-line `.env`) are
/// dismissed here, without the distance table.
pub(super) struct Name {
    upper: String,
    len: usize,
    counts: [u16; 128],
    /// Which buckets of `counts` are not zero: a bucket only one name uses adds at least 1 to
    /// the difference, so this dismisses most pairs before the counts are compared.
    present: u128,
}

impl Name {
    /// The length in characters and the `present` buckets of `key`, upper-cased.
    fn outline(key: &str) -> (usize, u128) {
        key.chars().fold((0, 0), |(len, present), c| {
            (len + 1, present | 1 << Self::bucket(c.to_ascii_uppercase()))
        })
    }

    fn bucket(c: char) -> usize {
        usize::try_from(u32::from(c)).map_or(127, |b| b.min(127))
    }

    fn new(key: &str) -> Self {
        let upper = key.to_ascii_uppercase();
        let mut counts = [0u16; 128];
        let mut present = 0u128;
        let mut len = 0;
        for c in upper.chars() {
            let bucket = Self::bucket(c);
            counts[bucket] = counts[bucket].saturating_add(1);
            present |= 1 << bucket;
            len += 1;
        }
        Self {
            upper,
            len,
            counts,
            present,
        }
    }

    /// Edits this name allows: one, two for names of 8 characters or more; none under 4.
    fn allowed(&self) -> usize {
        match self.len {
            0..4 => 0,
            4..8 => 1,
            _ => 2,
        }
    }

    /// Whether a name of `len` characters with the buckets `present` passes the quick tests
    /// of [`Name::is_likely_typo_of`] against this one.
    fn may_be_near(&self, len: usize, present: u128) -> bool {
        let allowed = self.allowed();
        allowed > 0
            && len.abs_diff(self.len) <= allowed
            && (present ^ self.present).count_ones() as usize <= 2 * allowed
    }

    /// See [`edit_distance`]: one edit, two for names of 8 characters or more.
    fn is_likely_typo_of(&self, known: &Name) -> bool {
        if !known.may_be_near(self.len, self.present) {
            return false;
        }
        let allowed = known.allowed();
        let apart: usize = self
            .counts
            .iter()
            .zip(&known.counts)
            .map(|(a, b)| usize::from(a.abs_diff(*b)))
            .sum();
        apart <= 2 * allowed && edit_distance_within(&self.upper, &known.upper, allowed)
    }
}

/// [`edit_distance`] ≤ `limit`, stopping at the first row already beyond it: a 100,000-line
/// `.env` of unrelated names then costs a few cells per name, not the whole table.
pub(super) fn edit_distance_within(a: &str, b: &str, limit: usize) -> bool {
    edit_distance_bounded(a, b, limit) <= limit
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbours each cost 1. Written here (20 lines) rather than a crate for one comparison.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    edit_distance_bounded(a, b, usize::MAX)
}

/// The distance, or some value above `limit` as soon as every cell of a row exceeds it.
pub(super) fn edit_distance_bounded(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
        // A swap looks two rows back, so stop only when two rows in a row are beyond limit.
        if i > 1 && d[i].iter().min() > Some(&limit) && d[i - 1].iter().min() > Some(&limit) {
            return limit.saturating_add(1);
        }
    }
    d[a.len()][b.len()]
}
