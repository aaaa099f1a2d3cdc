using Spectre.Console;

namespace Strata.Cli.Commands;

/// <summary>A table that fits the terminal instead of wrapping every cell into a column a few characters wide (issue
/// 24): its columns are shown by priority (0: always) while they fit at their full width, the others are named under
/// the table, and a cell never wraps (a key column that still does not fit is cut with an ellipsis). With
/// <c>--wide</c> every column is shown at its full width, however wide the lines get.</summary>
internal sealed class FittedTable
{
    /// <summary>What one column takes besides its text: a space either side and a border.</summary>
    private const int ColumnChrome = 3;

    private readonly List<(string Header, int Priority, bool Right, bool Cut)> _columns = [];
    private readonly List<string?[]> _rows = [];

    /// <param name="cut">Cut this column's long cells first when the key columns do not fit (a subject, a name), before
    /// any other is narrowed.</param>
    public FittedTable Column(string header, int priority = 0, bool right = false, bool cut = false)
    {
        _columns.Add((header, priority, right, cut));
        return this;
    }

    /// <summary>Plain text cells (escaped when written), one per column; null is shown as "-".</summary>
    public FittedTable Row(params string?[] cells)
    {
        if (cells.Length != _columns.Count)
        {
            throw new ArgumentException($"{cells.Length} cells for {_columns.Count} columns", nameof(cells));
        }
        _rows.Add(cells);
        return this;
    }

    public int Count => _rows.Count;

    /// <summary>The columns shown at <paramref name="width"/> characters (all of them when <paramref name="wide"/>),
    /// in their declared order.</summary>
    public IReadOnlyList<int> Shown(int width, bool wide) => Shown(width, wide, NaturalWidths());

    private List<int> Shown(int width, bool wide, int[] natural)
    {
        if (wide)
        {
            return [.. Enumerable.Range(0, _columns.Count)];
        }
        var shown = new HashSet<int>(Enumerable.Range(0, _columns.Count).Where(i => _columns[i].Priority == 0));
        var used = 1 + shown.Sum(i => natural[i] + ColumnChrome);
        foreach (var i in Enumerable.Range(0, _columns.Count).Where(i => _columns[i].Priority > 0).OrderBy(i => _columns[i].Priority).ThenBy(i => i))
        {
            if (used + natural[i] + ColumnChrome <= width)
            {
                shown.Add(i);
                used += natural[i] + ColumnChrome;
            }
        }
        return [.. shown.Order()];
    }

    private int[] NaturalWidths() =>
        [.. _columns.Select((c, i) => _rows.Select(r => Text(r[i]).Length).Append(c.Header.Length).Max())];

    private static string Text(string? cell) => cell ?? "-";

    public void Write(bool wide, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        var widths = NaturalWidths();
        var shown = Shown(console.Profile.Width, wide, widths);
        if (!wide)
        {
            Shrink(shown, widths, console.Profile.Width);
        }
        var table = new Table();
        foreach (var i in shown)
        {
            var column = new TableColumn(Markup.Escape(Cut(_columns[i].Header, widths[i]))) { Width = widths[i] }.NoWrap();
            table.AddColumn(_columns[i].Right ? column.RightAligned() : column);
        }
        foreach (var row in _rows)
        {
            table.AddRow([.. shown.Select(i => Markup.Escape(Cut(Text(row[i]), widths[i])))]);
        }
        var previous = console.Profile.Width;
        // Every shown column at the width chosen: never narrower than the table (--wide: as wide as it needs).
        console.Profile.Width = Math.Max(previous, 1 + shown.Sum(i => widths[i] + ColumnChrome));
        try
        {
            console.Write(table);
        }
        finally
        {
            console.Profile.Width = previous;
        }
        var hidden = Enumerable.Range(0, _columns.Count).Except(shown).Select(i => _columns[i].Header).ToList();
        if (hidden.Count > 0)
        {
            var names = string.Join(", ", hidden.Take(5)) + (hidden.Count > 5 ? ", ..." : string.Empty);
            console.MarkupLine($"[grey]{hidden.Count} more column{(hidden.Count == 1 ? "" : "s")} with --wide: {Markup.Escape(names)}[/]");
        }
    }

    /// <summary>Narrows the widest shown columns (those marked to be cut first), one character at a time, until the table
    /// fits <paramref name="width"/> or every column is down to its header (at least <see cref="MinimumWidth"/>); their
    /// cells are then cut.</summary>
    private void Shrink(IReadOnlyList<int> shown, int[] widths, int width)
    {
        var excess = 1 + shown.Sum(i => widths[i] + ColumnChrome) - width;
        while (excess > 0)
        {
            var widest = shown.Where(i => widths[i] > Math.Max(MinimumWidth, _columns[i].Header.Length))
                .OrderByDescending(i => _columns[i].Cut).ThenByDescending(i => widths[i]).FirstOrDefault(-1);
            if (widest < 0)
            {
                return;
            }
            widths[widest]--;
            excess--;
        }
    }

    private const int MinimumWidth = 6;

    private static string Cut(string text, int width) => text.Length <= width ? text : width <= 1 ? text[..width] : string.Concat(text.AsSpan(0, width - 1), "…");
}
