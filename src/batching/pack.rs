//! Choosing which queued items run together.

/// Picks items for one batch from `lens` (token counts of the queue's first entries, oldest
/// first). The oldest entry always goes in, so nothing starves; the rest are its nearest
/// neighbours by length, so little compute is spent on padding. A batch costs
/// `longest * count` tokens, which must stay within `max_tokens` (a single item always fits).
/// Returns indices into `lens`.
pub fn pick(lens: &[usize], max_items: usize, max_tokens: usize) -> Vec<usize> {
    if lens.is_empty() || max_items == 0 {
        return Vec::new();
    }
    let mut sorted: Vec<usize> = (0..lens.len()).collect();
    sorted.sort_by_key(|&i| (lens[i], i));
    let anchor = sorted
        .iter()
        .position(|&i| i == 0)
        .expect("oldest is present");
    let (mut lo, mut hi) = (anchor, anchor); // inclusive range in `sorted`
    let mut longest = lens[0];
    loop {
        if hi - lo + 1 >= max_items {
            break;
        }
        let below = lo.checked_sub(1).map(|j| (j, lens[sorted[j]]));
        let above = (hi + 1 < sorted.len()).then(|| (hi + 1, lens[sorted[hi + 1]]));
        let base = lens[0];
        let next = match (below, above) {
            (Some(b), Some(a)) => {
                if base - b.1 <= a.1 - base {
                    b
                } else {
                    a
                }
            }
            (Some(b), None) => b,
            (None, Some(a)) => a,
            (None, None) => break,
        };
        let new_longest = longest.max(next.1);
        if new_longest * (hi - lo + 2) > max_tokens {
            break;
        }
        longest = new_longest;
        if next.0 < lo {
            lo = next.0;
        } else {
            hi = next.0;
        }
    }
    sorted[lo..=hi].to_vec()
}

#[cfg(test)]
mod tests {
    use super::pick;

    #[test]
    fn oldest_always_included_and_budget_respected() {
        let lens = [50, 10, 12, 48, 52, 100, 49];
        let got = pick(&lens, 4, 4 * 52);
        assert!(got.contains(&0));
        assert_eq!(got.len(), 4);
        let longest = got.iter().map(|&i| lens[i]).max().unwrap();
        assert!(longest * got.len() <= 4 * 52);
        // Nearest lengths to 50 are 48, 49, 52: the short ones stay for a later batch.
        assert!(!got.contains(&1) && !got.contains(&2));
    }

    #[test]
    fn single_long_item_still_runs() {
        assert_eq!(pick(&[500], 32, 100), vec![0]);
    }

    #[test]
    fn item_cap_holds() {
        let lens = vec![5; 100];
        assert_eq!(pick(&lens, 32, 1_000_000).len(), 32);
        assert_eq!(pick(&lens, 32, 50).len(), 10);
    }
}
