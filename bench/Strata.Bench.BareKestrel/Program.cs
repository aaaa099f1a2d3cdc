// The HTTP ceiling of this machine for the /predict shape: Kestrel parses the same JSON body Strata's /predict
// takes and answers a constant of the same shape. Strata's throughput is reported as a ratio of this one's.
using System.Net;
using System.Text.Json;

var port = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5099;
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
var app = builder.Build();
app.MapPost("/predict", async (HttpRequest request) =>
{
    using var body = await JsonDocument.ParseAsync(request.Body);
    var age = body.RootElement.GetProperty("age").GetDouble();
    var income = body.RootElement.GetProperty("income").GetDouble();
    return Results.Json(new Answer(age > 0 && income > 0 ? 0.5 : 0.0, "1"));
});
// The Open Inference Protocol shape: parse the infer body, walk every input's data, answer a constant output tensor.
app.MapPost("/v2/models/{name}/infer", async (string name, HttpRequest request) =>
{
    using var body = await JsonDocument.ParseAsync(request.Body);
    var sum = 0.0;
    var rows = 0;
    foreach (var input in body.RootElement.GetProperty("inputs").EnumerateArray())
    {
        rows = input.GetProperty("shape")[0].GetInt32();
        foreach (var v in input.GetProperty("data").EnumerateArray())
        {
            sum += v.GetDouble();
        }
    }
    return Results.Json(new InferAnswer(name, "1", [new OutputTensor("probability", "FP64", [rows], [.. Enumerable.Repeat(sum > 0 ? 0.5 : 0.0, rows)])]));
});
app.Run();

internal sealed record Answer(double prediction, string model_version);

internal sealed record OutputTensor(string name, string datatype, long[] shape, double[] data);

internal sealed record InferAnswer(string model_name, string model_version, OutputTensor[] outputs);
