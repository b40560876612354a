//! A font with Chinese glyphs for laying out the report's charts (see
//! `ducha_report::render::register_chart_font`): the configured one, or the first of the
//! usual system fonts. Without any, reports still render; chart labels are then placed
//! as if Chinese text were narrow.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Debian's, Red Hat's and Alpine's packages of Noto CJK and WenQuanYi, in that order.
const SYSTEM_FONTS: [&str; 6] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
];

/// Registers the chart font once per process; later calls return the first outcome.
pub fn register_chart_font(configured: Option<&Path>) -> Option<String> {
    static FAMILY: OnceLock<Option<String>> = OnceLock::new();
    FAMILY
        .get_or_init(|| {
            let candidates: Vec<PathBuf> = match configured {
                Some(path) => vec![path.to_path_buf()],
                None => SYSTEM_FONTS.iter().map(PathBuf::from).collect(),
            };
            for path in candidates {
                let Ok(data) = std::fs::read(&path) else {
                    continue;
                };
                match ducha_report::render::register_chart_font(&data) {
                    Ok(family) => {
                        tracing::info!(font = %path.display(), %family, "report charts measure with this font");
                        return Some(family);
                    }
                    Err(error) => {
                        tracing::warn!(font = %path.display(), %error, "font not usable for report charts")
                    }
                }
            }
            if configured.is_some() {
                tracing::warn!("the configured report font could not be read; chart labels may overlap");
            }
            None
        })
        .clone()
}
