using System.Diagnostics;
using System.Net.Mime;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Strata.Contracts;
using Strata.Contracts.Events;

namespace Strata.Events.Tests;

/// <summary>The bus's envelopes are CloudEvents 1.0 structured JSON as the CloudNative.CloudEvents SDK reads and writes
/// them: each side decodes what the other encodes.</summary>
public sealed class CloudEventCodecTests
{
    private static readonly CloudEventAttribute TraceParent = CloudEventAttribute.CreateExtension("traceparent", CloudEventAttributeType.String);
    private static readonly JsonEventFormatter Sdk = new(StrataJson.Options, new JsonDocumentOptions());

    [Fact]
    public void Encode_ModelAliasChanged_IsReadByTheCloudEventsSdk()
    {
        using var source = new ActivitySource("codec-test");
        using var listener = new ActivityListener { ShouldListenTo = s => s.Name == "codec-test", Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData };
        ActivitySource.AddActivityListener(listener);
        using var activity = source.StartActivity("publish");
        var codec = new CloudEventCodec(TimeProvider.System, "/strata/registry");

        var envelope = codec.Encode(EventTopics.ModelAliasChanged, "seed@champion", new ModelAliasChangedEvent("seed", "champion", 2, 1), out var id);

        var cloudEvent = Sdk.DecodeStructuredModeMessage(envelope, new ContentType(CloudEventCodec.MediaType), [TraceParent]);
        Assert.Equal(CloudEventsSpecVersion.V1_0, cloudEvent.SpecVersion);
        Assert.Equal(id, cloudEvent.Id);
        Assert.Equal("strata.model.alias_changed", cloudEvent.Type);
        Assert.Equal(new Uri("/strata/registry", UriKind.Relative), cloudEvent.Source);
        Assert.Equal("seed@champion", cloudEvent.Subject);
        Assert.Equal("application/json", cloudEvent.DataContentType);
        Assert.Equal(EventSchemas.UriOf(EventTopics.ModelAliasChanged), cloudEvent.DataSchema);
        Assert.Equal(activity!.Id, cloudEvent[TraceParent]);
        Assert.True(Guid.TryParse(cloudEvent.Id, out _));
        Assert.InRange(cloudEvent.Time!.Value, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        var data = Assert.IsType<JsonElement>(cloudEvent.Data);
        Assert.Equal(2, data.GetProperty("version").GetInt32());
        Assert.Equal(1, data.GetProperty("previous_version").GetInt32());
    }

    [Fact]
    public void Decode_EnvelopeWrittenByTheCloudEventsSdk_ReadsEveryAttribute()
    {
        var sent = new CloudEvent(CloudEventsSpecVersion.V1_0, [TraceParent])
        {
            Id = "e-1",
            Source = new Uri("https://example.com/producer"),
            Type = "strata.card.transactions",
            Subject = "card-7",
            Time = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero),
            DataContentType = "application/json",
            Data = JsonSerializer.SerializeToElement(new { card_id = "card-7", amount = 12.5 }),
        };
        sent[TraceParent] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        var received = CloudEventCodec.Decode(Sdk.EncodeStructuredModeMessage(sent, out _), deliveryCount: 3);

        Assert.Equal(("e-1", "card.transactions", "card-7"), (received.Id, received.Topic, received.Subject));
        Assert.Equal(sent.Time, received.Time);
        Assert.Equal(sent.Source.ToString(), received.Source);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", received.TraceParent);
        Assert.Equal(12.5, received.Data.GetProperty("amount").GetDouble());
        Assert.Equal(3, received.DeliveryCount);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1]")]
    [InlineData("""{"specversion":"0.3","id":"a","source":"/s","type":"t"}""")]
    [InlineData("""{"specversion":"1.0","source":"/s","type":"t"}""")]
    [InlineData("""{"specversion":"1.0","id":"a","type":"t"}""")]
    [InlineData("""{"specversion":"1.0","id":"a","source":"/s"}""")]
    [InlineData("""{"specversion":"1.0","id":"a","source":"/s","type":"t","time":"noon"}""")]
    [InlineData("""{"specversion":"1.0","id":"a","source":"/s","type":"t","data_base64":"AAEC"}""")]
    public void Decode_NotAStrataCloudEvent_IsRefused(string envelope) =>
        Assert.Throws<InvalidDataException>(() => CloudEventCodec.Decode(Encoding.UTF8.GetBytes(envelope)));

    [Fact]
    public void Decode_InSequence_ReadsEachEnvelopesOwnAttributes()
    {
        // The decoder reuses the strings of repeated type/source/dataschema values: each envelope must still read as
        // itself -- same length different bytes, escaped forms, a topic outside the prefix -- and in any order.
        var envelopes = new[]
        {
            ("strata.data.ingested", "/strata/a", "urn:x:1", "data.ingested"),
            ("strata.data.ingested", "/strata/a", "urn:x:1", "data.ingested"),
            ("strata.data.ingestee", "/strata/b", "urn:x:2", "data.ingestee"),
            ("strata.data.ingested", "/strata/\u0061", "urn:x:1", "data.ingested"),
            ("other.kind", "/strata/a", "urn:x:1", "other.kind"),
            ("strata.data.ingested", "/strata/a", "urn:x:\u0031", "data.ingested"),
        };
        foreach (var (type, source, schema, topic) in envelopes)
        {
            var json = $$$"""{"specversion":"1.0","id":"i","type":"{{{type}}}","source":"{{{source}}}","dataschema":"{{{schema}}}","data":{"n":1}}""";
            var received = CloudEventCodec.Decode(Encoding.UTF8.GetBytes(json));
            Assert.Equal(JsonDocument.Parse($"\"{type}\"").RootElement.GetString(), received.Type);
            Assert.Equal(JsonDocument.Parse($"\"{source}\"").RootElement.GetString(), received.Source);
            Assert.Equal(JsonDocument.Parse($"\"{schema}\"").RootElement.GetString(), received.DataSchema);
            Assert.Equal(topic, received.Topic);
        }
    }
}

public sealed class EventIdsTests
{
    [Fact]
    public void NewId_IsAUuidV7InCreationOrder()
    {
        var t = new DateTimeOffset(2026, 11, 28, 4, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 1000).Select(i => EventIds.NewId(t.AddMilliseconds(i))).ToList();
        Assert.Equal(1000, ids.Distinct().Count());
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        var guid = Guid.Parse(ids[0]);
        Assert.Equal(7, guid.Version);
        Assert.Equal(t.ToUnixTimeMilliseconds(), long.Parse(ids[0].Replace("-", "", StringComparison.Ordinal)[..12], System.Globalization.NumberStyles.HexNumber,
            System.Globalization.CultureInfo.InvariantCulture));
    }
}
