using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Events;

namespace Strata.Cli.Commands;

/// <summary><c>strata events query|tail|dlq ls|dlq redrive|replay|consumers</c>: the bus of a running Strata, over its
/// HTTP API. Tables for people, <c>--json</c> for machines; server errors print one line and exit 1.</summary>
public static class EventsCommand
{
    public static Command Create()
    {
        var command = new Command("events", "The event bus of a running Strata: audit log, dead letters, replay, consumer lag");
        command.Subcommands.Add(Query());
        command.Subcommands.Add(Tail());
        var dlq = new Command("dlq", "Events a consumer group gave up on");
        dlq.Subcommands.Add(DeadLetters());
        dlq.Subcommands.Add(Redrive());
        command.Subcommands.Add(dlq);
        command.Subcommands.Add(Replay());
        command.Subcommands.Add(Consumers());
        return command;
    }

    private static Option<Uri> UrlOption() => CommonOptions.Url("the gateway or the events service");

    private static Command Query()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var topic = new Option<string?>("--topic", "-t") { Description = "Only this topic" };
        var type = new Option<string?>("--type") { Description = "Only this CloudEvents type" };
        var subject = new Option<string?>("--subject", "-s") { Description = "Only this subject" };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Events at or after this time (ISO 8601)" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Events before this time (ISO 8601)" };
        var trace = new Option<string?>("--trace-id") { Description = "Only events of this W3C trace" };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many events", DefaultValueFactory = _ => 100 };
        var wide = CommonOptions.Wide();
        var command = new Command("query", "Query the audit log (oldest first)") { url, json, topic, type, subject, from, to, trace, limit, wide };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async events =>
        {
            var page = await events.QueryAsync(parse.GetValue(topic), parse.GetValue(type), parse.GetValue(subject), parse.GetValue(from), parse.GetValue(to),
                parse.GetValue(trace), parse.GetValue(limit), null, newestFirst: false, ct);
            Print(page.Events, parse.GetValue(json), parse.GetValue(wide));
            return 0;
        }));
        return command;
    }

    private static Command Tail()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var topic = new Option<string?>("--topic", "-t") { Description = "Only this topic" };
        var lines = new Option<int>("--lines", "-n") { Description = "How many of the latest events", DefaultValueFactory = _ => 20 };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events until Ctrl-C" };
        var wide = CommonOptions.Wide();
        var command = new Command("tail", "The latest events of the audit log") { url, json, topic, lines, follow, wide };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async events =>
        {
            var asJson = parse.GetValue(json);
            var latest = (await events.QueryAsync(parse.GetValue(topic), null, null, null, null, null, parse.GetValue(lines), null, newestFirst: true, ct)).Events.Reverse().ToList();
            Print(latest, asJson, parse.GetValue(wide));
            var last = latest.Count > 0 ? latest[^1].Seq : 0;
            while (parse.GetValue(follow) && !ct.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                var page = await events.QueryAsync(parse.GetValue(topic), null, null, null, null, null, 1000, last, newestFirst: false, ct);
                if (page.Events.Count > 0)
                {
                    Print(page.Events, asJson, parse.GetValue(wide));
                    last = page.Events[^1].Seq;
                }
            }
            return 0;
        }));
        return command;
    }

    private static void Print(IReadOnlyList<EventRecord> events, bool json, bool wide)
    {
        if (json)
        {
            foreach (var e in events)
            {
                Console.WriteLine(JsonSerializer.Serialize(e, StrataJson.Options));
            }
            return;
        }
        // Position, time, topic and subject always (a long subject is cut); the event and trace ids when they fit.
        var table = new FittedTable().Column("seq", right: true).Column("time").Column("topic").Column("subject", cut: true).Column("id", 2).Column("trace id", 3);
        foreach (var e in events)
        {
            table.Row(e.Seq.ToString(CultureInfo.InvariantCulture), e.Time?.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture), e.Topic, e.Subject, e.Id, e.TraceId);
        }
        table.Write(wide);
    }

    private static Command DeadLetters()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var group = new Option<string?>("--group", "-g") { Description = "Only this consumer group" };
        var topic = new Option<string?>("--topic", "-t") { Description = "Only this topic" };
        var status = new Option<string?>("--status") { Description = "dead or redriven" };
        var wide = CommonOptions.Wide();
        var command = new Command("ls", "List dead letters") { url, json, group, topic, status, wide };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async events =>
        {
            var letters = await events.DeadLettersAsync(parse.GetValue(group), parse.GetValue(topic), parse.GetValue(status), 1000, ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(letters);
            }
            // What a person acts on first: which letter, whose, why; the rest when it fits.
            var table = new FittedTable().Column("id").Column("group").Column("status").Column("error", cut: true).Column("topic", 1).Column("failed at", 2)
                .Column("attempts", 3, right: true).Column("event", 4);
            foreach (var l in letters)
            {
                table.Row(l.Id, l.Group, l.Status, l.Error, l.Topic, l.FailedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    l.Attempts.ToString(CultureInfo.InvariantCulture), l.EventId);
            }
            table.Write(parse.GetValue(wide));
            return 0;
        }));
        return command;
    }

    private static Command Redrive()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var id = new Argument<string>("id") { Description = "The dead letter's id (from `strata events dlq ls`)" };
        var command = new Command("redrive", "Deliver a dead letter again, to the group that gave up on it") { url, json, id };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async events =>
        {
            var result = await events.RedriveAsync(parse.GetValue(id)!, ct);
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(result, StrataJson.Options)
                : $"re-driven: event {result.EventId} of {result.Topic} to group {result.Group}");
            return 0;
        }));
        return command;
    }

    private static Command Replay()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var topic = new Option<string>("--topic", "-t") { Description = "The topic to replay", Required = true };
        var group = new Option<string>("--group", "-g") { Description = "The consumer group that gets the events (only it)", Required = true };
        var from = new Option<DateTimeOffset>("--from") { Description = "Start of the time range (inclusive, ISO 8601)", Required = true };
        var to = new Option<DateTimeOffset?>("--to") { Description = "End of the time range (exclusive; default now)" };
        var command = new Command("replay", "Re-deliver a time range of a topic to one consumer group, in order") { url, json, topic, group, from, to };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async events =>
        {
            var result = await events.ReplayAsync(new ReplayRequest(parse.GetValue(topic), parse.GetValue(group), parse.GetValue(from), parse.GetValue(to)), ct);
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(result, StrataJson.Options)
                : $"replayed {result.Replayed:N0} events of {result.Topic} to group {result.Group}");
            return 0;
        }));
        return command;
    }

    private static Command Consumers()
    {
        var url = UrlOption();
        var json = CommonOptions.Json();
        var topic = new Option<string?>("--topic", "-t") { Description = "Only this topic" };
        var wide = CommonOptions.Wide();
        var command = new Command("consumers", "Each consumer group's lag, in-flight and redelivered counts") { url, json, topic, wide };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, async events =>
        {
            var groups = await events.ConsumersAsync(parse.GetValue(topic), ct);
            if (parse.GetValue(json))
            {
                return CommonOptions.PrintJson(groups);
            }
            var table = new FittedTable().Column("topic", cut: true).Column("group", cut: true).Column("lag", right: true).Column("in flight", 1, right: true)
                .Column("redelivered", 2, right: true);
            foreach (var g in groups)
            {
                table.Row(g.Topic, g.Group, g.Pending.ToString("N0", CultureInfo.InvariantCulture), g.InFlight.ToString("N0", CultureInfo.InvariantCulture),
                    g.Redelivered.ToString("N0", CultureInfo.InvariantCulture));
            }
            table.Write(parse.GetValue(wide));
            return 0;
        }));
        return command;
    }

    private static Task<int> RunAsync(Uri url, Func<HttpEventsClient, Task<int>> action) =>
        CommonOptions.RunClientAsync(url, TimeSpan.FromMinutes(5), http => action(new HttpEventsClient(http)));
}
