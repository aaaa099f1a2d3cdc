using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Strata.Testing;

/// <summary>One span as an OTLP exporter sent it.</summary>
/// <param name="Kind">OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.</param>
/// <param name="Process">The exporting process's <c>service.instance.id</c>.</param>
public sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, string Process,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>An OTLP/HTTP trace receiver (<c>POST /v1/traces</c>, protobuf) on a free loopback port: what Strata's
/// processes export when <c>Strata__Otel__Endpoint</c> points here, decoded field by field from the OTLP wire format
/// (ExportTraceServiceRequest → ResourceSpans → ScopeSpans → Span).</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            receiver.Decode(body.ToArray());
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        receiver.Endpoint = new Uri(app.Urls.First());
        return receiver;
    }

    private void Decode(byte[] request)
    {
        foreach (var resourceSpans in Fields(request, 1))
        {
            var process = "";
            foreach (var resource in Fields(resourceSpans, 1))
            {
                foreach (var (key, value) in Attributes(resource, 1))
                {
                    if (key == "service.instance.id")
                    {
                        process = value;
                    }
                }
            }
            foreach (var scopeSpans in Fields(resourceSpans, 2))
            {
                foreach (var span in Fields(scopeSpans, 2))
                {
                    _spans.Enqueue(DecodeSpan(span, process));
                }
            }
        }
    }

    private static ReceivedSpan DecodeSpan(byte[] span, string process)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        var input = new CodedInputStream(span);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: traceId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 2: spanId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 4: parent = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 5: name = input.ReadString(); break;
                case 6: kind = input.ReadEnum(); break;
                default: input.SkipLastField(); break;
            }
        }
        return new ReceivedSpan(traceId, spanId, parent, name, kind, process, Attributes(span, 9).ToDictionary(a => a.Key, a => a.Value));
    }

    /// <summary>The length-delimited occurrences of a field of a message.</summary>
    private static List<byte[]> Fields(byte[] message, int field)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                found.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }
        return found;
    }

    /// <summary>KeyValue attributes (key = 1, AnyValue = 2) of a field: string values as they are, others as text.</summary>
    private static List<KeyValuePair<string, string>> Attributes(byte[] message, int field)
    {
        var attributes = new List<KeyValuePair<string, string>>();
        foreach (var keyValue in Fields(message, field))
        {
            string key = "", value = "";
            var input = new CodedInputStream(keyValue);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1: key = input.ReadString(); break;
                    case 2: value = AnyValue(input.ReadBytes().ToByteArray()); break;
                    default: input.SkipLastField(); break;
                }
            }
            attributes.Add(new(key, value));
        }
        return attributes;
    }

    private static string AnyValue(byte[] any)
    {
        var input = new CodedInputStream(any);
        var tag = input.ReadTag();
        return WireFormat.GetTagFieldNumber(tag) switch
        {
            1 => input.ReadString(),
            2 => input.ReadBool() ? "true" : "false",
            3 => input.ReadInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            4 => input.ReadDouble().ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => "",
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
