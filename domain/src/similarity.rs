//! The duplicate check at registration: the seeds forbid 重复督查、多头督查 [002 Art.69], so a
//! new item that looks like an open one for the same unit gets a warning (not a block: the
//! office may have good reason).

use std::collections::HashSet;

/// Character-bigram Jaccard similarity of two titles, ignoring punctuation and spaces.
/// Chinese titles have no word boundaries; bigrams catch "推进老旧小区改造" vs
/// "关于推进老旧小区改造工作" without a segmenter.
pub fn title_similarity(a: &str, b: &str) -> f64 {
    let grams = |s: &str| -> HashSet<(char, char)> {
        let chars: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
        chars.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (ga, gb) = (grams(a), grams(b));
    if ga.is_empty() || gb.is_empty() {
        return if normalise(a) == normalise(b) && !normalise(a).is_empty() {
            1.0
        } else {
            0.0
        };
    }
    let shared = ga.intersection(&gb).count() as f64;
    shared / (ga.len() + gb.len()) as f64 * 2.0
}

fn normalise(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Titles at least this similar (Dice coefficient on bigrams) are flagged.
pub const SIMILAR_TITLE_THRESHOLD: f64 = 0.6;

/// Same source reference (批示件号, 纪要号, 文号), ignoring spaces and bracket styles.
pub fn same_source_reference(a: &str, b: &str) -> bool {
    let canon = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '[' | '【' | '(' | '（' => '〔',
                ']' | '】' | ')' | '）' => '〕',
                other => other,
            })
            .collect()
    };
    let (a, b) = (canon(a), canon(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_identical_titles_are_similar_and_unrelated_ones_are_not() {
        let a = "关于推进老旧小区改造工作的批示";
        assert!(title_similarity(a, "推进老旧小区改造工作") >= SIMILAR_TITLE_THRESHOLD);
        assert!(title_similarity(a, "防汛物资储备检查") < 0.2);
        assert_eq!(title_similarity("", ""), 0.0);
    }

    #[test]
    fn source_references_match_across_bracket_styles() {
        assert!(same_source_reference(
            "区长批示〔2026〕15号",
            "区长批示[2026]15号"
        ));
        assert!(!same_source_reference("", ""));
        assert!(!same_source_reference("纪要〔2026〕3号", "纪要〔2026〕4号"));
    }
}
