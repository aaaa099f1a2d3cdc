using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Strata.Testing;

namespace Strata.EndToEnd.Tests;

/// <summary>Traces as an operator meets them, in each topology: every process exports over OTLP/HTTP to a receiver (the
/// test's), and one request's spans form one tree across processes: the caller's <c>traceparent</c> is honoured, each
/// hop (gateway → module, module → module) is a client span with the server span as its child, and an event's consumer
/// is a child of its producer (the context travels inside the CloudEvent): <c>/train</c> → <c>model.trained</c> and the
/// champion's <c>model.alias_changed</c> → the serving swap is one trace.</summary>
public static class TracingScenarioTests
{
    private const int Server = 2, Client = 3, Producer = 4, Consumer = 5;

    /// <summary>Runs against <paramref name="up"/>, started with <paramref name="receiver"/> as its OTLP endpoint and JSON logs.</summary>
    public static async Task TraceAsync(StrataUp up, OtlpReceiver receiver, string folder, string topology)
    {
        var monolith = topology == "monolith";

        // 1. POST /predict in a trace the caller started.
        var predictTrace = ActivityTraceIdHex();
        var root = ActivitySpanIdHex();
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/predict", UriKind.Relative)) { Content = JsonContent.Create(new { age = 35, income = 50000 }) })
        {
            request.Headers.Add("traceparent", $"00-{predictTrace}-{root}-01");
            using var predicted = await up.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        }
        var predict = await TreeAsync(receiver, predictTrace, root, s => s.Kind == Server && s.Process == (monolith ? "monolith" : "serving"));
        var servingSpan = Assert.Single(predict, s => s.Kind == Server && s.Process == (monolith ? "monolith" : "serving"));
        Assert.Equal("/predict", servingSpan.Attributes.GetValueOrDefault("http.route"));
        if (!monolith)
        {
            // Caller → gateway (server) → its call to serving (client) → serving (server).
            var gateway = Assert.Single(predict, s => s.Kind == Server && s.Process == "gateway");
            Assert.Equal(root, gateway.ParentSpanId);
            var hop = Assert.Single(predict, s => s.SpanId == servingSpan.ParentSpanId);
            Assert.Equal((Client, "gateway"), (hop.Kind, hop.Process));
        }
        else
        {
            Assert.Equal(root, servingSpan.ParentSpanId);
        }

        // 2. POST /train: the training run, its calls to other modules, model.trained published, and serving's
        // refresher handling it, all in the caller's trace.
        var trainTrace = ActivityTraceIdHex();
        var trainRoot = ActivitySpanIdHex();
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/train", UriKind.Relative)))
        {
            request.Headers.Add("traceparent", $"00-{trainTrace}-{trainRoot}-01");
            using var trained = await up.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, trained.StatusCode);
            Assert.Equal(2, (await trained.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
        }
        var servingProcess = monolith ? "monolith" : "serving";
        // Serving swaps when the champion alias moves: its refresher's handling of model.alias_changed is in the trace.
        bool IsSwap(ReceivedSpan s) => s.Kind == Consumer && s.Name == "process model.alias_changed" && s.Process == servingProcess
            && s.Attributes.GetValueOrDefault("messaging.consumer.group.name", "").StartsWith("serving-model-refresher", StringComparison.Ordinal);
        var train = await TreeAsync(receiver, trainTrace, trainRoot, IsSwap);
        var published = Assert.Single(train, s => s.Kind == Producer && s.Name == "publish model.trained");
        Assert.Equal(monolith ? "monolith" : "training", published.Process);
        var swap = Assert.Single(train, IsSwap);
        // The swap descends from the caller's request (TreeAsync waited for every parent), through the event.
        var ancestry = new List<ReceivedSpan>();
        for (var at = swap; at is not null; at = train.SingleOrDefault(p => p.SpanId == at.ParentSpanId))
        {
            ancestry.Add(at);
        }
        Assert.Equal(trainRoot, ancestry[^1].ParentSpanId);
        Assert.Contains(ancestry, s => s.Kind == Server && s.Name == "POST /train");
        // Database calls are spans too: the registry's SQLite writes of the new version, in the registry's process.
        Assert.Contains(train, s => s.Kind == Client && s.Name == "INSERT registry.db" && s.Process == (monolith ? "monolith" : "registry")
            && s.Attributes.GetValueOrDefault("db.system.name") == "sqlite");
        // The log line training wrote during the request carries the request's trace and the span it was written in.
        var logged = JsonLines(up, folder, monolith ? "monolith" : "training")
            .Single(l => l.GetProperty("message").GetString()!.StartsWith("Trained seed v2", StringComparison.Ordinal));
        Assert.Equal(trainTrace, logged.GetProperty("trace_id").GetString());
        Assert.Contains(train, s => s.SpanId == logged.GetProperty("span_id").GetString());
        Assert.Equal("seed", logged.GetProperty("Model").GetString());

        // 3. POST /predict by entity: serving fetches the user's features from the feature store (in microservices over
        // HTTP: serving's client span, the features module's server span under it).
        using (var pushed = await up.Http.PostAsJsonAsync(new Uri("/api/features/push", UriKind.Relative), new
        {
            push_source_name = "user_profiles",
            df = new Dictionary<string, object[]>
            {
                ["user_id"] = [8001], ["event_timestamp"] = [DateTimeOffset.UtcNow.ToString("O")], ["age"] = [35], ["income"] = [50000],
            },
        }))
        {
            Assert.Equal(HttpStatusCode.OK, pushed.StatusCode);
        }
        var entityTrace = ActivityTraceIdHex();
        var entityRoot = ActivitySpanIdHex();
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/predict", UriKind.Relative)) { Content = JsonContent.Create(new { user_id = 8001 }) })
        {
            request.Headers.Add("traceparent", $"00-{entityTrace}-{entityRoot}-01");
            using var predicted = await up.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        }
        if (!monolith)
        {
            const string Online = "POST /api/features/get-online-features";
            var byEntity = await TreeAsync(receiver, entityTrace, entityRoot, s => s.Kind == Server && s.Name == Online);
            var features = Assert.Single(byEntity, s => s.Kind == Server && s.Name == Online);
            Assert.Equal("features", features.Process);
            var call = Assert.Single(byEntity, s => s.SpanId == features.ParentSpanId);
            Assert.Equal((Client, "serving"), (call.Kind, call.Process));
            // The online store's read, under the lookup.
            var read = Assert.Single(byEntity, s => s.Name == "online-store read");
            Assert.Equal((features.SpanId, "features", "embedded"), (read.ParentSpanId, read.Process, read.Attributes.GetValueOrDefault("db.system")));
            var scoring = Assert.Single(byEntity, s => s.SpanId == call.ParentSpanId);
            Assert.Equal((Server, "serving", "/predict"), (scoring.Kind, scoring.Process, scoring.Attributes.GetValueOrDefault("http.route")));
        }
        else
        {
            // One process: the feature store is called in process, so the request is one server span.
            var byEntity = await TreeAsync(receiver, entityTrace, entityRoot, s => s.Kind == Server && s.Process == "monolith");
            var scoring = Assert.Single(byEntity, s => s.Kind == Server);
            Assert.Equal(entityRoot, scoring.ParentSpanId);
            Assert.Equal(scoring.SpanId, Assert.Single(byEntity, s => s.Name == "online-store read").ParentSpanId);
        }
        if (!monolith)
        {
            // Training called the other modules over HTTP inside the trace: each call a client span with the callee's
            // server span as its child.
            var processes = train.Select(s => s.Process).ToHashSet();
            Assert.Superset(new HashSet<string> { "gateway", "training", "serving" }, processes);
            foreach (var server in train.Where(s => s.Kind == Server && s.Process != "gateway"))
            {
                var caller = train.SingleOrDefault(s => s.SpanId == server.ParentSpanId);
                Assert.True(caller is { Kind: Client }, $"{server.Process} {server.Name}: parent {caller?.Process} {caller?.Name} kind {caller?.Kind}");
            }
        }
    }

    /// <summary>The JSON log lines of a process (monolith: strata up's output; microservices: the module's log file).</summary>
    private static List<JsonElement> JsonLines(StrataUp up, string folder, string process)
    {
        var text = up.Topology == "monolith" ? up.Output : File.ReadAllText(Path.Combine(folder, "logs", $"{process}.log"));
        var lines = new List<JsonElement>();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("{\"time\"", StringComparison.Ordinal))
            {
                lines.Add(JsonDocument.Parse(line).RootElement.Clone());
            }
        }
        return lines;
    }

    /// <summary>The spans of one trace once <paramref name="complete"/> has arrived (exporters send in batches every
    /// few seconds): each span's parent is in the trace or is the caller's root, so they form one tree.</summary>
    private static async Task<IReadOnlyList<ReceivedSpan>> TreeAsync(OtlpReceiver receiver, string traceId, string root, Func<ReceivedSpan, bool> complete)
    {
        List<ReceivedSpan> spans;
        try
        {
            spans = await Eventually.ValueAsync(() => Task.FromResult(receiver.Spans.Where(s => s.TraceId == traceId).ToList()),
                s => s.Any(complete), TimeSpan.FromSeconds(30), $"the spans of trace {traceId}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; received:\n{Describe(receiver.Spans.Where(s => s.TraceId == traceId))}", e);
        }
        // Spans that end later than the one awaited (parents end after their children) follow in the next batch.
        spans = await Eventually.ValueAsync(() => Task.FromResult(receiver.Spans.Where(s => s.TraceId == traceId).ToList()),
            s => s.All(x => x.ParentSpanId == root || s.Any(p => p.SpanId == x.ParentSpanId)), TimeSpan.FromSeconds(30),
            $"every parent in trace {traceId}");
        return spans;
    }

    private static string Describe(IEnumerable<ReceivedSpan> spans) => string.Join('\n', spans.Select(s =>
        $"{s.Process} kind {s.Kind} '{s.Name}' {s.SpanId} <- {s.ParentSpanId} {string.Join(' ', s.Attributes.Where(a => a.Key.StartsWith("messaging", StringComparison.Ordinal)))}"));

    private static string ActivityTraceIdHex() => System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();

    private static string ActivitySpanIdHex() => System.Diagnostics.ActivitySpanId.CreateRandom().ToHexString();
}
