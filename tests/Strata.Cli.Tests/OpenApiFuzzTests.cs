using System.Net;
using System.Text;
using System.Text.Json;
using Strata.Hosting;
using Strata.Testing;
using Xunit.Abstractions;

namespace Strata.Cli.Tests;

/// <summary>A monolith of its own for the fuzzer (nothing seeded: a fuzzed request that happens to be valid stays cheap).</summary>
public sealed class FuzzMonolithFixture : UnseededMonolithFixture;

/// <summary>The OpenAPI-driven fuzzer (issue 24): every operation of every module's OpenAPI document is sent generated
/// bad input (path values, query values, bodies of the wrong shape, type, size and depth, wrong content types), with
/// an admin key (and the service token on the internal broker routes). No answer may be a 5xx, none may take longer
/// than the client's timeout, and a refused request (4xx) may change nothing: the state fingerprint (what the list
/// endpoints answer, and the data directory's folders) is the same after it. Deterministic, and bounded to fit CI.</summary>
public sealed class OpenApiFuzzTests(FuzzMonolithFixture fixture, ITestOutputHelper output) : IClassFixture<FuzzMonolithFixture>
{
    private static readonly string Huge = new('x', 200_000);

    [Fact]
    public async Task EveryOperation_BadInput_NoServerErrorNoHangNoStateChange()
    {
        using var admin = Client(fixture.ApiKey);
        using var service = Client(TestKeys.ServiceToken(fixture.DataDirectory));
        var operations = new List<(string Method, string Path, JsonElement Operation, JsonElement Document)>();
        foreach (var module in StrataModules.All.Select(m => m.Name))
        {
            var document = JsonDocument.Parse(await admin.GetStringAsync($"/openapi/{module}.json")).RootElement.Clone();
            foreach (var path in document.GetProperty("paths").EnumerateObject())
            {
                foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete"))
                {
                    operations.Add((operation.Name.ToUpperInvariant(), path.Name, operation.Value, document));
                }
            }
        }
        Assert.True(operations.Count > 80, $"only {operations.Count} operations found");

        var failures = new List<string>();
        var sent = 0;
        var fingerprint = await FingerprintAsync(admin);
        foreach (var (method, template, operation, document) in operations)
        {
            var client = template.StartsWith("/api/events/topics/", StringComparison.Ordinal) ? service : admin;
            foreach (var (path, content) in Variants(method, template, operation, document))
            {
                sent++;
                using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = content };
                HttpResponseMessage response;
                try
                {
                    response = await client.SendAsync(request);
                }
                catch (TaskCanceledException)
                {
                    failures.Add($"{method} {Shorten(path)}: no answer within {client.Timeout.TotalSeconds} s");
                    continue;
                }
                using (response)
                {
                    var status = (int)response.StatusCode;
                    var answer = await response.Content.ReadAsStringAsync();
                    // Nothing is trained here, so serving has no model: a well-formed scoring request learns that (503);
                    // every other 5xx is a failure.
                    if (status >= 500 && !(status == 503 && answer.Contains("is loaded yet", StringComparison.Ordinal)))
                    {
                        failures.Add($"{method} {Shorten(path)} [{content?.Headers.ContentType}] {Shorten(await DescribeAsync(content))}: {status} {Shorten(answer)}");
                        continue;
                    }
                    var now = await FingerprintAsync(admin);
                    if (status >= 400 && now != fingerprint)
                    {
                        var before = fingerprint.Split('\n').ToHashSet(StringComparer.Ordinal);
                        var after = now.Split('\n').ToHashSet(StringComparer.Ordinal);
                        failures.Add($"{method} {Shorten(path)} {Shorten(await DescribeAsync(content))}: refused with {status} but the state changed: "
                            + $"gone [{Shorten(string.Join(" | ", before.Except(after)))}], new [{Shorten(string.Join(" | ", after.Except(before)))}]");
                    }
                    // An accepted request may go on working after its answer (a training job runs on): the next refused
                    // request is judged against the state once that work has settled, not against its progress.
                    fingerprint = status < 400 ? await SettledFingerprintAsync(admin, now) : now;
                }
            }
        }
        output.WriteLine($"{operations.Count} operations, {sent} requests, {failures.Count} failures");
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(40)));
    }

    private HttpClient Client(string key) => TestKeys.Authorize(new HttpClient { BaseAddress = fixture.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(20) }, key);

    /// <summary>The fingerprint once two readings 100 ms apart agree (at most 30 s).</summary>
    private async Task<string> SettledFingerprintAsync(HttpClient http, string first)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var previous = first;
        while (true)
        {
            await Task.Delay(100);
            var next = await FingerprintAsync(http);
            if (next == previous || DateTime.UtcNow > deadline)
            {
                return next;
            }
            previous = next;
        }
    }

    /// <summary>What a refused request must not change: the answers of the list endpoints, and the folders of the data
    /// directory (a topic asked about must not get a log).</summary>
    private async Task<string> FingerprintAsync(HttpClient http)
    {
        var text = new StringBuilder();
        foreach (var path in new[] { "/api/data/datasets", "/api/registry/models", "/api/security/keys", "/api/features/definitions/versions",
            "/api/2.0/mlflow/experiments/search?max_results=1000", "/api/training/jobs" })
        {
            using var answer = await http.GetAsync(path);
            text.Append(path).Append(' ').Append((int)answer.StatusCode).Append(' ').Append(await answer.Content.ReadAsStringAsync()).Append('\n');
        }
        foreach (var folder in Directory.GetDirectories(fixture.DataDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            text.Append(folder).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The bad requests for one operation: bad values in each path parameter, in each query parameter, and
    /// (for operations with a body) bodies of the wrong content type, shape, type, size and depth.</summary>
    private static IEnumerable<(string Path, HttpContent? Content)> Variants(string method, string template, JsonElement operation, JsonElement document)
    {
        var parameters = operation.TryGetProperty("parameters", out var p) ? p.EnumerateArray().ToList() : [];
        var pathParameters = parameters.Where(x => x.GetProperty("in").GetString() == "path").Select(x => x.GetProperty("name").GetString()!).ToList();
        string Fill(string value) => pathParameters.Aggregate(template, (path, name) =>
            path.Replace("{" + name + "}", value, StringComparison.Ordinal).Replace("{" + name + ":int}", value, StringComparison.Ordinal));
        var ordinary = Fill("fuzz");
        var body = operation.TryGetProperty("requestBody", out var rb) ? rb : (JsonElement?)null;

        if (pathParameters.Count > 0)
        {
            foreach (var value in new[] { "..%2F..%2Fetc%2Fpasswd", new string('a', 3000), "-1", "%00", "NaN", "%F0%9F%98%80", "a%20b", "99999999999999999999" })
            {
                yield return (Fill(value), body is null ? null : Json("{}"));
            }
        }
        foreach (var query in parameters.Where(x => x.GetProperty("in").GetString() == "query").Select(x => x.GetProperty("name").GetString()!))
        {
            foreach (var value in new[] { "", "-1", "99999999999999999999999", "1e309", "NaN", "%00", Uri.EscapeDataString(Huge[..5000]), "true", "%7B%22a%22%3A1%7D" })
            {
                yield return ($"{ordinary}?{query}={value}", body is null ? null : Json("{}"));
            }
        }
        if (body is not { } requestBody || method == "GET")
        {
            yield break;
        }
        var types = requestBody.GetProperty("content").EnumerateObject().Select(c => c.Name).ToList();
        if (!types.Any(t => t.Contains("json", StringComparison.Ordinal)))
        {
            // CSV, Parquet, YAML and octet-stream bodies: empty, binary junk, a huge line, JSON where it is not expected.
            foreach (var type in types)
            {
                yield return (ordinary, Raw([], type));
                yield return (ordinary, Raw([0, 0xFF, 0xFE, 0x00, 0x1F, 0x8B, 0x08, 0x00], type));
                yield return (ordinary, Raw(Encoding.UTF8.GetBytes("a,b\n\"unterminated\n" + Huge), type));
                yield return (ordinary, Raw(Encoding.UTF8.GetBytes("{\"a\": [1, 2, {\"b\": null}]}"), type));
            }
            yield return (ordinary, Raw(Encoding.UTF8.GetBytes("x"), "application/x-www-form-urlencoded"));
            yield break;
        }
        yield return (ordinary, null);
        yield return (ordinary, Raw(Encoding.UTF8.GetBytes("x=1"), "text/plain"));
        yield return (ordinary, Raw(Encoding.UTF8.GetBytes("<a/>"), "application/xml"));
        foreach (var json in new[] { "", "null", "[]", "\"s\"", "0", "1e999", "{\"a\":", "{\"a\": 1} trailing", "\uFEFF{}", "{\"a\": \"\\uD800\"}",
            new string('[', 5000) + new string(']', 5000), "{" + string.Join(',', Enumerable.Range(0, 2000).Select(i => $"\"k{i}\": {i}")) + "}" })
        {
            yield return (ordinary, Json(json));
        }
        // Each property of the body's schema with values of the wrong type and extreme ones (the others left out).
        foreach (var property in Properties(requestBody, document).Take(25))
        {
            foreach (var value in new[] { "\"s\"", "12345", "-1", "1e308", "-1e308", "9007199254740993", "[]", "{}", "null", "true", $"\"{Huge}\"", "[[[[[[[[[[1]]]]]]]]]]" })
            {
                yield return (ordinary, Json($"{{\"{property}\": {value}}}"));
            }
        }
    }

    private static IEnumerable<string> Properties(JsonElement requestBody, JsonElement document)
    {
        foreach (var content in requestBody.GetProperty("content").EnumerateObject())
        {
            if (content.Value.TryGetProperty("schema", out var schema) && Resolve(schema, document) is { } resolved
                && resolved.TryGetProperty("properties", out var properties))
            {
                foreach (var property in properties.EnumerateObject())
                {
                    yield return property.Name;
                }
                yield break;
            }
        }
    }

    private static JsonElement? Resolve(JsonElement schema, JsonElement document)
    {
        for (var depth = 0; depth < 5 && schema.TryGetProperty("$ref", out var reference); depth++)
        {
            var name = reference.GetString()!.Split('/')[^1];
            if (!document.GetProperty("components").GetProperty("schemas").TryGetProperty(name, out schema))
            {
                return null;
            }
        }
        return schema.ValueKind == JsonValueKind.Object ? schema : null;
    }

    private static ByteArrayContent Json(string text) => Raw(Encoding.UTF8.GetBytes(text), "application/json");

    private static ByteArrayContent Raw(byte[] bytes, string type)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(type);
        return content;
    }

    private static async Task<string> DescribeAsync(HttpContent? content) => content is null ? "(no body)" : await content.ReadAsStringAsync();

    private static string Shorten(string text) => text.Length <= 160 ? text : text[..160] + "...";
}
