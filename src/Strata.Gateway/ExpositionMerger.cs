using System.Globalization;
using System.Text;

namespace Strata.Gateway;

/// <summary>Merges the expositions of several processes (Prometheus text 0.0.4 or OpenMetrics 1.0) into one: a metric
/// family that several processes export is written once (its first <c>HELP</c>, <c>TYPE</c> and <c>UNIT</c>) with the
/// samples of all of them, each labelled with the process it came from; <c>EOF</c> ends the whole.</summary>
public sealed class ExpositionMerger(bool openMetrics)
{
    private readonly Dictionary<string, Family> _families = new(StringComparer.Ordinal);
    private readonly List<Family> _order = [];

    private sealed class Family(string name)
    {
        public string Name { get; } = name;

        public List<string> Metadata { get; } = [];

        public List<string> Samples { get; } = [];
    }

    /// <summary>Adds one process's exposition.</summary>
    public void Add(string process, string exposition)
    {
        ArgumentNullException.ThrowIfNull(exposition);
        Family? current = null;
        var label = $"{MetricsFederation.ProcessLabel}=\"{Escape(process)}\"";
        foreach (var raw in exposition.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line == "# EOF")
            {
                continue;
            }
            if (line.StartsWith('#'))
            {
                // "# HELP name ...", "# TYPE name type", "# UNIT name unit": metadata opens (or continues) a family.
                var parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[1] is "HELP" or "TYPE" or "UNIT")
                {
                    var isNew = !_families.TryGetValue(parts[2], out current);
                    if (isNew)
                    {
                        current = new Family(parts[2]);
                        _families[parts[2]] = current;
                        _order.Add(current);
                    }
                    if (!current!.Metadata.Any(m => m.StartsWith($"# {parts[1]} ", StringComparison.Ordinal)))
                    {
                        current.Metadata.Add(line);
                    }
                }
                continue;
            }
            var name = NameOf(line);
            if (current is null || !BelongsTo(name, current.Name))
            {
                // A sample without metadata (allowed in the text format): a family of its own name.
                if (!_families.TryGetValue(name, out current))
                {
                    current = new Family(name);
                    _families[name] = current;
                    _order.Add(current);
                }
            }
            current.Samples.Add(WithLabel(line, name.Length, label));
        }
    }

    /// <summary>Adds a gauge family with one sample per process.</summary>
    public void AddGauge(string name, string help, IEnumerable<(string Process, double Value)> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var family = new Family(name);
        family.Metadata.Add($"# HELP {name} {help}");
        family.Metadata.Add($"# TYPE {name} gauge");
        foreach (var (process, value) in values)
        {
            family.Samples.Add($"{name}{{{MetricsFederation.ProcessLabel}=\"{Escape(process)}\"}} {value.ToString(CultureInfo.InvariantCulture)}");
        }
        _families[name] = family;
        _order.Add(family);
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var family in _order)
        {
            foreach (var line in family.Metadata)
            {
                text.Append(line).Append('\n');
            }
            foreach (var line in family.Samples)
            {
                text.Append(line).Append('\n');
            }
        }
        if (openMetrics)
        {
            text.Append("# EOF\n");
        }
        return text.ToString();
    }

    /// <summary>A family's samples are its name or its name with a suffix (<c>_total</c>, <c>_bucket</c>, <c>_count</c>,
    /// <c>_sum</c>, <c>_created</c>, <c>_info</c>).</summary>
    private static bool BelongsTo(string sample, string family) =>
        sample.Equals(family, StringComparison.Ordinal)
        || (sample.StartsWith(family, StringComparison.Ordinal) && sample[family.Length] == '_'
            && sample[family.Length..] is "_total" or "_bucket" or "_count" or "_sum" or "_created" or "_info" or "_gcount" or "_gsum");

    private static string NameOf(string line)
    {
        var end = 0;
        while (end < line.Length && line[end] is not ('{' or ' '))
        {
            end++;
        }
        return line[..end];
    }

    /// <summary>The sample with the process label first among its labels.</summary>
    private static string WithLabel(string line, int nameLength, string label) =>
        nameLength < line.Length && line[nameLength] == '{'
            ? string.Concat(line[..(nameLength + 1)], label, line[nameLength + 1] == '}' ? "" : ",", line[(nameLength + 1)..])
            : string.Concat(line[..nameLength], "{" + label + "}", line[nameLength..]);

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
