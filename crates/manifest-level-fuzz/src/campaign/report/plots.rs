//! The report's charts, drawn by `plotters` into SVG text that the page inlines: bars
//! for distributions and counts, a line for ops/s over the run.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

/// Chart width in pixels.
const WIDTH: u32 = 640;
/// Pixels per bar of a bar chart.
const BAR_HEIGHT: u32 = 22;
/// The bars' colour.
const BAR_COLOUR: RGBColor = RGBColor(0x3b, 0x6e, 0xa8);

/// Horizontal bars, one per `(label, count)`, the first on top; `value_label` names the
/// counts' axis. An empty list draws an empty chart.
pub fn bar_chart(title: &str, value_label: &str, bars: &[(String, u64)]) -> Result<String, String> {
    let mut svg = String::new();
    let rows = bars.len().max(1);
    let height = 100 + BAR_HEIGHT * rows as u32;
    let label_width = bars
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 40) as u32
        * 7
        + 12;
    let max = bars
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0)
        .max(1);
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(label_width)
            .build_cartesian_2d(
                0u64..max.saturating_add(max / 12 + 1),
                (0..rows).into_segmented(),
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows)
            .y_label_formatter(&|value| match value {
                // The axis also asks for the segment past the last one: no label there.
                SegmentValue::CenterOf(row) if *row < rows => bars
                    .get(rows - 1 - row)
                    .map(|(label, _)| label.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_labels(6)
            .label_style(("sans-serif", 12))
            .x_label_formatter(&|value| short_number(*value as f64))
            .x_desc(value_label)
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().enumerate().map(|(index, (_, count))| {
                // The first bar on top: the axis counts rows from the bottom.
                let row = rows - 1 - index;
                let mut bar = Rectangle::new(
                    [
                        (0, SegmentValue::Exact(row)),
                        (*count, SegmentValue::Exact(row + 1)),
                    ],
                    BAR_COLOUR.filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                bar
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A line through `points` (x ascending), from zero on both axes.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[(f64, f64)],
) -> Result<String, String> {
    let mut svg = String::new();
    let x_max = points.iter().map(|(x, _)| *x).fold(1.0, f64::max);
    let y_max = points.iter().map(|(_, y)| *y).fold(1.0, f64::max);
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_max * 1.02, 0.0..y_max * 1.1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style(("sans-serif", 12))
            .x_label_formatter(&|value| short_number(*value))
            .y_label_formatter(&|value| short_number(*value))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                BAR_COLOUR.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// `950`, `12.5k`, `3.2M`: an axis label's number in a few characters.
pub fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e9 {
        format!("{:.1}G", value / 1e9)
    } else if magnitude >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if magnitude >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if magnitude >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else if magnitude == magnitude.trunc() {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_charts_draw_every_label_and_a_bar_each() {
        let bars = vec![("insert_tables".to_string(), 900), ("reset".to_string(), 3)];
        let svg = bar_chart("Op mix", "ops", &bars).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("insert_tables") && svg.contains("reset"));
        assert_eq!(
            svg.matches("\nreset\n").count(),
            1,
            "each label once: {svg}"
        );
        assert_eq!(
            svg.matches("\ninsert_tables\n").count(),
            1,
            "each label once: {svg}"
        );
        assert!(svg.contains("Op mix"));
        // One filled rectangle per bar, besides the background.
        let filled = svg.matches("fill=\"#3B6EA8\"").count();
        assert_eq!(filled, 2, "{svg}");
        let one = bar_chart("One", "seeds", &[("only_label".to_string(), 5)]).unwrap();
        assert!(one.contains("only_label"), "{one}");
        let empty = bar_chart("Nothing", "seeds", &[]).unwrap();
        assert!(empty.starts_with("<svg"));
    }

    #[test]
    fn line_charts_draw_a_path() {
        let svg = line_chart("ops/s", "s", "ops/s", &[(0.5, 10.0), (1.5, 30.0)]).unwrap();
        assert!(svg.contains("<polyline") || svg.contains("<path"), "{svg}");
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short_number(950.0), "950");
        assert_eq!(short_number(1_500.0), "1.5k");
        assert_eq!(short_number(12_500.0), "12k");
        assert_eq!(short_number(3_210_000.0), "3.2M");
        assert_eq!(short_number(2.5), "2.5");
    }
}
