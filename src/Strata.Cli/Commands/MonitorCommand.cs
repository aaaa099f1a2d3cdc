using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Contracts.Monitoring;

namespace Strata.Cli.Commands;

/// <summary><c>strata monitor MODEL</c>: each version's drift against its training baseline (per feature and the
/// score), data quality, and performance on the outcomes received, over a window.</summary>
public static class MonitorCommand
{
    public static Command Create()
    {
        var url = CommonOptions.Url("the gateway");
        var json = CommonOptions.Json();
        var wide = CommonOptions.Wide();
        var model = new Argument<string>("model") { Description = "The registered model" };
        var version = new Option<string?>("--version") { Description = "Only this version (default: every version that served in the window)" };
        var window = new Option<TimeSpan>("--window")
        {
            Description = "How far back from now: 1h, 30m, 7d (default 1d)",
            DefaultValueFactory = _ => TimeSpan.FromDays(1),
            CustomParser = r =>
            {
                var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : string.Empty;
                if (TryParseWindow(text, out var span))
                {
                    return span;
                }
                r.AddError($"--window must be a positive duration such as 30m, 1h or 7d, got '{text}'");
                return default;
            },
        };
        var command = new Command("monitor", "A model's drift against training, data quality and performance on outcomes, per version")
        {
            url, json, wide, model, version, window,
        };
        command.SetAction((parse, ct) => CommonOptions.RunClientAsync(parse.GetValue(url)!, TimeSpan.FromMinutes(2), async http =>
        {
            var name = parse.GetValue(model)!;
            var to = TimeProvider.System.GetUtcNow();
            var report = await new HttpMonitoringClient(http).GetReportAsync(name, to - parse.GetValue(window), to, parse.GetValue(version), ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(report);
            }
            Print(report, parse.GetValue(wide));
            return 0;
        }));
        return command;
    }

    internal static bool TryParseWindow(string text, out TimeSpan window)
    {
        window = default;
        if (text.Length < 2 || !double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount <= 0 || amount > 3650 * 24)
        {
            return false;
        }
        window = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => default,
        };
        return window > TimeSpan.Zero && window <= TimeSpan.FromDays(366);
    }

    private static string Number(double? value, string format = "0.000") => value?.ToString(format, CultureInfo.InvariantCulture) ?? "-";

    private static void Print(ModelReport report, bool wide)
    {
        Console.WriteLine($"{report.Model}: {report.From:u} to {report.To:u}");
        if (report.Drift.Count == 0 && report.Performance.Count == 0)
        {
            Console.WriteLine("no logged predictions in the window");
            return;
        }
        foreach (var drift in report.Drift)
        {
            var quality = drift.Quality;
            Console.WriteLine();
            Console.WriteLine($"v{drift.Version}: {drift.Predictions:N0} predictions; "
                + (drift.Baseline ? drift.Drifted.Count == 0 ? "no feature drifted" : $"drifted: {string.Join(", ", drift.Drifted)}" : "no training baseline")
                + $"; schema violations {quality.SchemaViolations:N0}, missing {quality.MissingValues:N0}, out of range {quality.OutOfRange:N0}, unseen categories {quality.UnseenCategories:N0}");
            if (!drift.Baseline)
            {
                continue;
            }
            var table = new FittedTable().Column("feature", priority: 0, cut: true).Column("kind", 3).Column("PSI", 0, right: true).Column("KS", 1, right: true)
                .Column("chi2", 2, right: true).Column("p", 0, right: true).Column("JS", 3, right: true).Column("mean", 2, right: true)
                .Column("train mean", 2, right: true).Column("missing", 3, right: true).Column("drifted", 0);
            foreach (var f in drift.Score is null ? drift.Features : drift.Features.Append(drift.Score with { Name = "(score)" }))
            {
                table.Row(f.Name, f.Kind, Number(f.Psi), Number(f.Ks), Number(f.ChiSquare, "0.0"), Number(f.PValue, "0.###E+0"), Number(f.JensenShannon),
                    Number(f.Mean, "G5"), Number(f.BaselineMean, "G5"), f.MissingRate.ToString("P1", CultureInfo.InvariantCulture), f.Drifted ? "yes" : "no");
            }
            table.Write(wide);
        }
        if (report.Performance.Count > 0)
        {
            Console.WriteLine();
            var table = new FittedTable().Column("version").Column("predictions", right: true).Column("labelled", right: true).Column("AUC", right: true)
                .Column("log-loss", 1, right: true).Column("threshold", 2, right: true).Column("precision", 2, right: true).Column("recall", 2, right: true).Column("RMSE", 1, right: true)
                .Column("error rate", 1, right: true).Column("p99 ms", 2, right: true);
            foreach (var p in report.Performance)
            {
                table.Row("v" + p.Version, p.Predictions.ToString("N0", CultureInfo.InvariantCulture), p.Labelled.ToString("N0", CultureInfo.InvariantCulture),
                    Number(p.Auc, "0.0000"), Number(p.LogLoss, "0.0000"), Number(p.Threshold), Number(p.Precision), Number(p.Recall), Number(p.Rmse, "G5"),
                    p.ErrorRate?.ToString("P2", CultureInfo.InvariantCulture) ?? "-", Number(p.LatencyP99Ms, "0.00"));
            }
            table.Write(wide);
        }
    }
}
