using System.Globalization;
using Strata.Testing;

namespace Strata.Cli.Tests;

/// <summary>The CLI as a person uses it (issue 24): <c>strata up</c> in a real terminal (tmux), then the client commands
/// in a folder of their own, without flags, at 80 and at 160 columns. Tables show whole rows (a row never wraps into
/// a column a few characters wide), the key columns always, more where the terminal is wider, every one with
/// <c>--wide</c>; Ctrl-C stops everything.</summary>
public sealed class TerminalTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose()
    {
        LocalProcesses.KillAll(_folder.Path);
        _folder.Dispose();
    }

    /// <summary>The table in <paramref name="screen"/> whose header starts with <paramref name="firstHeader"/>: its
    /// column headers and its row lines (between the header rule and the bottom border).</summary>
    private static (List<string> Headers, List<string> Rows) Table(string screen, string firstHeader)
    {
        var lines = screen.Split('\n');
        var header = Array.FindIndex(lines, l => l.StartsWith($"│ {firstHeader} ", StringComparison.Ordinal));
        Assert.True(header > 0, $"no table starting with '{firstHeader}' on the screen:\n{screen}");
        var headers = lines[header].Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.StartsWith("├", lines[header + 1], StringComparison.Ordinal);
        var bottom = Array.FindIndex(lines, header + 2, l => l.StartsWith('└'));
        // The box is whole: every line of it as wide as its top border (a wrapped row would break it).
        var top = lines[header - 1];
        Assert.StartsWith("┌", top, StringComparison.Ordinal);
        for (var i = header - 1; i <= bottom; i++)
        {
            Assert.True(lines[i].Length == top.Length, $"line {i} of the table is {lines[i].Length} wide, its border {top.Length}:\n{screen}");
        }
        return (headers, [.. lines[(header + 2)..bottom]]);
    }

    [SkippableFact]
    public async Task UpAndTheClientCommands_InARealTerminal_At80And160Columns()
    {
        await using var tmux = Tmux.Create();
        Skip.If(tmux is null, Tmux.InstallHint);
        var strata = Path.Combine(_folder.Path, "strata");
        await File.WriteAllTextAsync(strata, $"#!/bin/sh\nexec dotnet '{StrataExecutable.Dll}' \"$@\"\n");
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            File.SetUnixFileMode(strata, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        string[] unset = ["STRATA_URL", "STRATA_API_KEY", "Strata__DataDirectory"];

        // strata up in its own terminal, on a free port, its data in ./.strata (the default).
        await tmux!.OpenAsync("up", 160, 50, _folder.Path, unset);
        var command = $"up --port {StrataUp.FreePort().ToString(CultureInfo.InvariantCulture)}";
        await tmux.TypeAsync("up", "./strata " + command);
        var up = await tmux.WaitForAsync("up", "stop: Ctrl-C", TimeSpan.FromSeconds(180));
        var services = Table(up, "service");
        Assert.Contains("ready", Assert.Single(services.Rows), StringComparison.Ordinal);

        // The client commands find it with no flag (the address and key `strata up` recorded in ./.strata).
        await tmux.OpenAsync("narrow", 80, 200, _folder.Path, unset);
        var runs = await tmux.CommandAsync("narrow", "./strata runs ls", TimeSpan.FromSeconds(60));
        Assert.All(runs.Split('\n'), line => Assert.True(line.Length <= 80, line));
        var (headers, rows) = Table(runs, "run");
        Assert.Equal(["run", "name", "status", "started", "auc"], headers.Take(5));
        Assert.Contains("FINISHED", Assert.Single(rows), StringComparison.Ordinal);
        Assert.Contains("more columns with --wide", runs, StringComparison.Ordinal);
        var narrowRunColumns = headers.Count;

        var versions = await tmux.CommandAsync("narrow", "./strata models show seed", TimeSpan.FromSeconds(60));
        (headers, rows) = Table(versions, "version");
        Assert.Equal(["version", "aliases", "created", "auc"], headers.Take(4));
        Assert.Contains("champion", Assert.Single(rows), StringComparison.Ordinal);

        // One version in full: its metrics as a two-column table of their own.
        var version = await tmux.CommandAsync("narrow", "./strata models show seed --version 1", TimeSpan.FromSeconds(60));
        (headers, rows) = Table(version, "metric / param");
        Assert.Equal(2, headers.Count);
        Assert.Contains(rows, r => r.StartsWith("│ auc ", StringComparison.Ordinal));

        var events = await tmux.CommandAsync("narrow", "./strata events query -n 3", TimeSpan.FromSeconds(60));
        (headers, rows) = Table(events, "seq");
        Assert.Equal(["seq", "time", "topic", "subject"], headers.Take(4));
        Assert.Equal(3, rows.Count); // the seed alone published four

        // At 160 columns the same commands show more; --wide shows every column, however wide.
        await tmux.OpenAsync("wide", 160, 200, _folder.Path, unset);
        var wideRuns = await tmux.CommandAsync("wide", "./strata runs ls", TimeSpan.FromSeconds(60));
        (headers, rows) = Table(wideRuns, "run");
        Assert.True(headers.Count > narrowRunColumns, $"{headers.Count} columns at 160, {narrowRunColumns} at 80");
        Assert.Contains("experiment", headers);
        Assert.Single(rows);
        var all = await tmux.CommandAsync("wide", "./strata runs ls --wide", TimeSpan.FromSeconds(60), joined: true);
        (headers, _) = Table(all, "run");
        Assert.Contains("importance.income_per_age", headers);
        Assert.Contains("params", headers);
        Assert.DoesNotContain("more columns", all, StringComparison.Ordinal);

        // Ctrl-C stops Strata: the shell prompt comes back and no process of it is left.
        await tmux.InterruptAsync("up");
        await tmux.TypeAsync("up", "echo exited-$((6 * 7))");
        await tmux.WaitForAsync("up", "exited-42\n", TimeSpan.FromSeconds(30));
        await Eventually.ValueAsync(() => Task.FromResult(LocalProcesses.WithArgument(command).Count), n => n == 0, TimeSpan.FromSeconds(10), "strata up gone");
    }
}
