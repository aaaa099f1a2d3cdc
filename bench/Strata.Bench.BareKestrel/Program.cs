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
app.Run();

internal sealed record Answer(double prediction, string model_version);
