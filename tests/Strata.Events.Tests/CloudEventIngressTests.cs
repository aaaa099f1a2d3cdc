using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Mime;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Http;
using CloudNative.CloudEvents.SystemTextJson;
using Microsoft.Extensions.DependencyInjection;
using Strata.Contracts;
using Strata.Contracts.Events;
using Strata.Testing;

namespace Strata.Events.Tests;

/// <summary>The CloudEvents HTTP ingress (<c>POST /api/events/{topic}</c>) and the audit log's output, spoken with the
/// CloudNative.CloudEvents SDK on the other side: events sent in binary, structured and batch mode arrive on the broker
/// (embedded, NATS, Redis) with every attribute, and the audit log returns them as CloudEvents the SDK parses.</summary>
public sealed class CloudEventIngressTests(NatsFixture nats, RedisFixture redis) : IClassFixture<NatsFixture>, IClassFixture<RedisFixture>, IDisposable
{
    private static readonly CloudEventAttribute TraceParent = CloudEventAttribute.CreateExtension("traceparent", CloudEventAttributeType.String);
    private static readonly CloudEventAttribute Region = CloudEventAttribute.CreateExtension("region", CloudEventAttributeType.String);
    private static readonly CloudEventAttribute Priority = CloudEventAttribute.CreateExtension("priority", CloudEventAttributeType.Integer);
    private static readonly JsonEventFormatter Sdk = new();
    private const string CustomTopic = "orders.placed";

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private async Task<EventsHost> HostAsync(string backend)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Strata:Events:Ingress:Topics:0"] = EventTopics.CardTransactions,
            ["Strata:Events:Ingress:Topics:1"] = CustomTopic,
        };
        switch (backend)
        {
            case "nats":
                Skip.If(nats.Server is null, NatsServer.InstallHint);
                configuration["Strata:Events:Backend"] = "nats";
                configuration["Strata:Events:Nats"] = nats.Server!.Url;
                configuration["Strata:Events:Prefix"] = "ingress" + Guid.NewGuid().ToString("N")[..8];
                break;
            case "redis":
                Skip.If(redis.Server is null, RedisServer.InstallHint);
                configuration["Strata:Events:Backend"] = "redis";
                configuration["Strata:Events:Redis"] = redis.Server!.Configuration;
                configuration["Strata:Events:Prefix"] = "ingress" + Guid.NewGuid().ToString("N")[..8];
                break;
        }
        return await EventsHost.StartAsync(_folder.Path, configuration);
    }

    private static CloudEvent Transaction(string id, string card, double amount, string source = "urn:bank:pos-17")
    {
        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0, [TraceParent, Region, Priority])
        {
            Id = id,
            Source = new Uri(source, UriKind.RelativeOrAbsolute),
            Type = "com.bank.card.transaction",
            Subject = card,
            Time = new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero),
            DataContentType = "application/json",
            Data = JsonSerializer.SerializeToElement(new { card_id = card, event_timestamp = "2026-12-01T09:30:00Z", amount, merchant_category = "5411" }),
        };
        cloudEvent[Region] = "eu-west";
        cloudEvent[TraceParent] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        return cloudEvent;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string topic, HttpContent content) =>
        await http.PostAsync(new Uri($"api/events/{topic}", UriKind.Relative), content);

    private static async Task<IReadOnlyList<CloudEvent>> AuditBatchAsync(HttpClient http, string query, int expected)
    {
        return await Eventually.ValueAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("api/events?" + query, UriKind.Relative));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/cloudevents-batch+json"));
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/cloudevents-batch+json", response.Content.Headers.ContentType?.MediaType);
            return await response.ToCloudEventBatchAsync(Sdk, TraceParent);
        }, events => events.Count >= expected, TimeSpan.FromSeconds(20), $"{expected} events in the audit log");
    }

    [SkippableTheory]
    [InlineData("embedded")]
    [InlineData("nats")]
    [InlineData("redis")]
    public async Task EveryMode_ReachesTheBroker_WithEveryAttribute_AndTheAuditLogReturnsCloudEvents(string backend)
    {
        await using var host = await HostAsync(backend);
        using var http = new HttpClient { BaseAddress = host.Url };
        var start = DateTimeOffset.UtcNow.AddSeconds(-1);

        // Binary mode: attributes as ce-* headers, the data as the body.
        var binary = Transaction("tx-1", "card-1", 12.5);
        using (var accepted = await PostAsync(http, EventTopics.CardTransactions, binary.ToHttpContent(ContentMode.Binary, Sdk)))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            Assert.Equal(1, (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        }
        // Structured mode, with an integer extension; sent twice (a retry): stored once.
        var structured = Transaction("tx-2", "card-2", 99.0);
        structured[Priority] = 5;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var accepted = await PostAsync(http, EventTopics.CardTransactions, structured.ToHttpContent(ContentMode.Structured, Sdk));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        // The same id from another source is another event (CloudEvents: source and id are unique together).
        var sameIdOtherSource = Transaction("tx-1", "card-3", 7.0, source: "urn:bank:pos-18");
        using (var accepted = await PostAsync(http, EventTopics.CardTransactions, sameIdOtherSource.ToHttpContent(ContentMode.Structured, Sdk)))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        // Batch mode to a topic of the user's own (no schema); one event without a time.
        var orders = Enumerable.Range(1, 3).Select(i => new CloudEvent(CloudEventsSpecVersion.V1_0)
        {
            Id = $"order-{i}",
            Source = new Uri("/shop/checkout", UriKind.Relative),
            Type = "com.shop.order.placed",
            Subject = $"customer-{i}",
            Time = i == 2 ? null : DateTimeOffset.UtcNow,
            DataContentType = "application/json",
            Data = JsonSerializer.SerializeToElement(new { order = i, lines = new[] { new { sku = "A-1", quantity = i } } }),
        }).ToList();
        using (var accepted = await PostAsync(http, CustomTopic, orders.ToHttpContent(Sdk)))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            Assert.Equal(3, (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        }
        // And one of Strata's own events, published by its bus inside a trace (traceparent and dataschema set).
        using (var activity = new Activity("test-publish").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            await host.Services.GetRequiredService<IEventPublisher>().PublishAsync(EventTopics.ModelAliasChanged, "seed@champion",
                new ModelAliasChangedEvent("seed", "champion", 2, 1));
        }

        var all = await AuditBatchAsync(http, "limit=1000", 7);
        Assert.Equal(7, all.Count);
        var byKey = all.ToDictionary(e => (e.Source!.ToString(), e.Id!));
        void SameAsSent(CloudEvent sent, CloudEvent got, string topic)
        {
            Assert.Equal((sent.Type, sent.Subject, sent.Time, sent.DataContentType), (got.Type, got.Subject, got.Time, got.DataContentType));
            Assert.Equal(((JsonElement)sent.Data!).GetRawText(), ((JsonElement)got.Data!).GetRawText());
            Assert.Equal(topic, got["topic"]);
            foreach (var (attribute, value) in sent.GetPopulatedAttributes().Where(a => a.Key.IsExtension))
            {
                // Binary mode carries extensions as header strings: an integer sent that way comes back as its text.
                Assert.Equal(value.ToString(), got[attribute.Name]?.ToString());
            }
        }
        SameAsSent(binary, byKey[("urn:bank:pos-17", "tx-1")], EventTopics.CardTransactions);
        SameAsSent(structured, byKey[("urn:bank:pos-17", "tx-2")], EventTopics.CardTransactions);
        // Undeclared to the SDK that reads it back, an extension typed in JSON keeps its type (the SDK would read a
        // string as one): the envelope is the JSON that was sent.
        var page0 = await http.GetFromJsonAsync<JsonElement>(new Uri("api/events?limit=1000", UriKind.Relative));
        Assert.Equal(JsonValueKind.Number, page0.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("id").GetString() == "tx-2").GetProperty("priority").ValueKind);
        SameAsSent(sameIdOtherSource, byKey[("urn:bank:pos-18", "tx-1")], EventTopics.CardTransactions);
        foreach (var order in orders)
        {
            SameAsSent(order, byKey[("/shop/checkout", order.Id!)], CustomTopic);
        }
        var own = all.Single(e => e.Type == "strata.model.alias_changed");
        Assert.Equal(EventSchemas.UriOf(EventTopics.ModelAliasChanged), own.DataSchema);
        // Flags: sampled (01) and, from W3C Trace Context level 2 (what .NET 10 sets once a listener is attached), random (02).
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$", (string)own[TraceParent]!);
        // seq: Strata's position in the log, increasing, a string (CloudEvents integers are 32-bit).
        var seqs = all.Select(e => long.Parse((string)e["seq"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs.Count, seqs.Distinct().Count());

        // The JSON page: each element is a structured-mode CloudEvent the SDK decodes on its own.
        var page = await http.GetFromJsonAsync<JsonElement>(new Uri("api/events?limit=1000", UriKind.Relative));
        Assert.Equal(7, page.GetProperty("events").GetArrayLength());
        foreach (var element in page.GetProperty("events").EnumerateArray())
        {
            var decoded = Sdk.DecodeStructuredModeMessage(Encoding.UTF8.GetBytes(element.GetRawText()), new ContentType(CloudEventCodec.MediaType), [TraceParent]);
            Assert.Equal(element.GetProperty("id").GetString(), decoded.Id);
        }
        // The event without a time is filed at the time it was recorded: a time-range query finds it.
        var recent = await AuditBatchAsync(http, $"topic={CustomTopic}&from={Uri.EscapeDataString(start.ToString("O"))}", 3);
        Assert.Contains(recent, e => e.Id == "order-2" && e.Time is null);

        // A batch page's next page is in the Link header.
        using var first = new HttpRequestMessage(HttpMethod.Get, new Uri("api/events?limit=4", UriKind.Relative));
        first.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/cloudevents-batch+json"));
        using var firstPage = await http.SendAsync(first);
        Assert.Equal(4, (await firstPage.ToCloudEventBatchAsync(Sdk, TraceParent)).Count);
        var link = Assert.Single(firstPage.Headers.GetValues("Link"));
        var next = System.Text.RegularExpressions.Regex.Match(link, "^<(?<url>[^>]+)>; rel=\"next\"$").Groups["url"].Value;
        using var second = new HttpRequestMessage(HttpMethod.Get, new Uri(next.TrimStart('/'), UriKind.Relative));
        second.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/cloudevents-batch+json"));
        using var secondPage = await http.SendAsync(second);
        Assert.Equal(all.Skip(4).Select(e => e.Id), (await secondPage.ToCloudEventBatchAsync(Sdk, TraceParent)).Select(e => e.Id));
        Assert.False(secondPage.Headers.Contains("Link"));
    }

    public static TheoryData<string, string, string, HttpStatusCode, string> BadRequests => new()
    {
        // topic, content type, body, status, what the problem names
        { EventTopics.CardTransactions, "application/cloudevents+json", """{"specversion":"1.0","id":"b1","source":"urn:x","type":"t","datacontenttype":"application/json","data":{"card_id":"c","event_timestamp":"2026-01-01T00:00:00Z","amount":"12"}}""", HttpStatusCode.BadRequest, "data" },
        { EventTopics.CardTransactions, "application/cloudevents-batch+json", """[{"specversion":"1.0","id":"b2","source":"urn:x","type":"t","data":{"card_id":"c","event_timestamp":"2026-01-01T00:00:00Z","amount":1}},{"specversion":"1.0","id":"b3","source":"urn:x","type":"t","data":{"card_id":"c","amount":1}}]""", HttpStatusCode.BadRequest, "[1].data" },
        { EventTopics.CardTransactions, "application/cloudevents+json", """{"specversion":"1.0","id":"b4","source":"urn:x","type":"t","seq":"1","data":{"card_id":"c","event_timestamp":"2026-01-01T00:00:00Z","amount":1}}""", HttpStatusCode.BadRequest, "seq" },
        { EventTopics.CardTransactions, "application/cloudevents+json", """{"specversion":"1.0","id":"b5","source":"/strata/registry","type":"t","data":{"card_id":"c","event_timestamp":"2026-01-01T00:00:00Z","amount":1}}""", HttpStatusCode.BadRequest, "source" },
        { EventTopics.CardTransactions, "application/cloudevents+json", """{"specversion":"1.0","id":"b6","source":"urn:x","type":"t","dataschema":"https://example.com/other.json","data":{"card_id":"c","event_timestamp":"2026-01-01T00:00:00Z","amount":1}}""", HttpStatusCode.BadRequest, "dataschema" },
        { EventTopics.CardTransactions, "application/cloudevents+json", """{"specversion":"1.0","id":"b7","source":"urn:x","type":"t","data_base64":"AAEC"}""", HttpStatusCode.BadRequest, "data_base64" },
        { EventTopics.CardTransactions, "application/cloudevents+json", """{"specversion":"1.0","source":"urn:x","type":"t"}""", HttpStatusCode.BadRequest, "body" },
        { EventTopics.CardTransactions, "application/cloudevents+json", """{"specversion":"1.0","id":"b8",""", HttpStatusCode.BadRequest, "body" },
        { EventTopics.CardTransactions, "application/cloudevents-batch+json", "[]", HttpStatusCode.BadRequest, "body" },
        { CustomTopic, "application/cloudevents+json", """{"specversion":"0.3","id":"b9","source":"urn:x","type":"t"}""", HttpStatusCode.BadRequest, "body" },
        { CustomTopic, "application/cloudevents+json", """{"specversion":"1.0","id":"b10","source":"urn:x","type":"t","datacontenttype":"text/plain","data":"hello"}""", HttpStatusCode.BadRequest, "data" },
        { CustomTopic, "application/json", """{"order":1}""", HttpStatusCode.BadRequest, "ce-specversion" },
        { CustomTopic, "text/plain", "hello", HttpStatusCode.UnsupportedMediaType, "content-type" },
        { EventTopics.ModelTrained, "application/cloudevents+json", """{"specversion":"1.0","id":"b11","source":"urn:x","type":"t","data":{}}""", HttpStatusCode.Forbidden, "" },
        { "no.such.topic", "application/cloudevents+json", """{"specversion":"1.0","id":"b12","source":"urn:x","type":"t","data":{}}""", HttpStatusCode.NotFound, "" },
        { CustomTopic, "application/cloudevents+json", """{"specversion":"1.0","id":"b16","id":"b17","source":"urn:x","type":"t"}""", HttpStatusCode.BadRequest, "body" },
        { "bad topic!", "application/cloudevents+json", """{"specversion":"1.0","id":"b13","source":"urn:x","type":"t","data":{}}""", HttpStatusCode.BadRequest, "topic" },
    };

    [SkippableFact]
    public async Task BadEvents_AreRefused_NamingTheField_AndNothingOfTheRequestIsStored()
    {
        await using var host = await HostAsync("embedded");
        using var http = new HttpClient { BaseAddress = host.Url };
        foreach (var row in BadRequests)
        {
            var (topic, contentType, body, status, field) = ((string)row[0], (string)row[1], (string)row[2], (HttpStatusCode)row[3], (string)row[4]);
            using var content = new StringContent(body, Encoding.UTF8);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            using var response = await PostAsync(http, Uri.EscapeDataString(topic), content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(status == response.StatusCode, $"{topic} {body}: {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            if (field.Length > 0)
            {
                Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("field").GetString() == field, $"{body}: {text}");
            }
        }
        // Binary mode: a bad header names the header; data that is not JSON is refused.
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"api/events/{CustomTopic}", UriKind.Relative)))
        {
            request.Headers.Add("ce-specversion", "1.0");
            request.Headers.Add("ce-id", "b14");
            request.Headers.Add("ce-source", "urn:x");
            request.Headers.Add("ce-type", "t");
            request.Headers.Add("ce-time", "yesterday");
            request.Content = new StringContent("""{"order":1}""", Encoding.UTF8, "application/json");
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("ce-time", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"api/events/{CustomTopic}", UriKind.Relative)))
        {
            request.Headers.Add("ce-specversion", "1.0");
            request.Headers.Add("ce-id", "b15");
            request.Headers.Add("ce-source", "urn:x");
            request.Headers.Add("ce-type", "t");
            request.Content = new ByteArrayContent([0, 1, 2]);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        }

        // A good event after them all: once it is in the audit log, it is the only one there.
        var sentinel = Transaction("sentinel", "card-s", 1.0);
        using (var accepted = await PostAsync(http, EventTopics.CardTransactions, sentinel.ToHttpContent(ContentMode.Structured, Sdk)))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        var stored = await AuditBatchAsync(http, "limit=1000", 1);
        Assert.Equal("sentinel", Assert.Single(stored).Id);
    }

    [SkippableFact]
    public async Task TheJavaScriptSdk_PublishesInEveryMode_AndParsesTheAuditLog()
    {
        var node = await NodeScript.PrepareAsync("tests/Strata.Events.Tests/cloudevents-js");
        Skip.If(node is null, NodeScript.InstallHint);
        await using var host = await HostAsync("embedded");
        using (new Activity("test-publish").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            // One of Strata's own events (traceparent, dataschema) among those the SDK must parse strictly.
            await host.Services.GetRequiredService<IEventPublisher>().PublishAsync(EventTopics.ModelAliasChanged, "seed@champion", new ModelAliasChangedEvent("seed", "champion", 2, 1));
        }
        var run = Guid.NewGuid().ToString("N")[..8];
        var (exit, output) = await node!.RunAsync("roundtrip.mjs", new Dictionary<string, string> { ["STRATA_URL"] = host.Url.ToString(), ["RUN_ID"] = run }, TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, output);
        using var result = JsonDocument.Parse(output);
        var sent = result.RootElement.GetProperty("sent").EnumerateArray().ToList();
        var batch = result.RootElement.GetProperty("batch").EnumerateArray().ToDictionary(e => e.GetProperty("id").GetString()!);
        Assert.Equal(5, batch.Count);
        Assert.Equal(5, result.RootElement.GetProperty("page").GetArrayLength());
        foreach (var e in sent)
        {
            var got = batch[e.GetProperty("id").GetString()!];
            foreach (var attribute in e.EnumerateObject())
            {
                var value = got.GetProperty(attribute.Name);
                if (attribute.Name == "time")
                {
                    Assert.Equal(DateTimeOffset.Parse(attribute.Value.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                        DateTimeOffset.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture));
                }
                else
                {
                    Assert.True(JsonElement.DeepEquals(attribute.Value, value), $"{attribute.Name}: sent {attribute.Value}, read {value}");
                }
            }
            Assert.Equal(EventTopics.CardTransactions, got.GetProperty("topic").GetString());
        }
        var own = batch.Values.Single(e => e.GetProperty("type").GetString() == "strata.model.alias_changed");
        Assert.Equal(EventSchemas.SchemaOf(EventTopics.ModelAliasChanged), own.GetProperty("dataschema").GetString());
        Assert.True(own.TryGetProperty("traceparent", out _));
    }

    [Fact]
    public async Task PlatformTopicsOtherThanCardTransactions_CannotBeOpened()
    {
        var error = await Assert.ThrowsAnyAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            EventsHost.StartAsync(_folder.Path, new Dictionary<string, string?> { ["Strata:Events:Ingress:Topics:0"] = EventTopics.ModelAliasChanged }));
        Assert.Contains("model.alias_changed carries what Strata's modules publish", error.Message, StringComparison.Ordinal);
        error = await Assert.ThrowsAnyAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            EventsHost.StartAsync(_folder.Path, new Dictionary<string, string?> { ["Strata:Events:Ingress:Topics:0"] = "replay" }));
        Assert.Contains("a route of the events API", error.Message, StringComparison.Ordinal);
    }
}
