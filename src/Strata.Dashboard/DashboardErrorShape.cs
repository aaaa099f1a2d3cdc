using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Strata.Contracts.Errors;
using Strata.Dashboard.Components;
using Strata.ServiceDefaults;
using Strata.ServiceDefaults.Security;

namespace Strata.Dashboard;

/// <summary>The dashboard's errors as pages, for browsers (requests accepting <c>text/html</c>): no session sends the
/// browser to sign in (and back after); a refusal, bad input, something missing or a module out of reach is a page
/// saying so with its status code. Other clients get problem details, as from the API.</summary>
public sealed class DashboardErrorShape : IErrorShape
{
    public static DashboardErrorShape Instance { get; } = new();

    public IResult? Translate(Exception exception, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        SecurityHeaders(context);
        var (status, title, field) = exception switch
        {
            AccessDeniedException { Authenticated: false } => (StatusCodes.Status401Unauthorized, "Sign in", null),
            AccessDeniedException => (StatusCodes.Status403Forbidden, "Not allowed", null),
            InputValidationException invalid => (StatusCodes.Status400BadRequest, "Invalid request", invalid.Field),
            ResourceNotFoundException => (StatusCodes.Status404NotFound, "Not found", null),
            ResourceConflictException => (StatusCodes.Status409Conflict, "Conflict", null),
            DependencyUnavailableException => (StatusCodes.Status503ServiceUnavailable, "Unavailable", null),
            _ => (0, "", (string?)null),
        };
        // A client that does not ask for HTML (a script, curl) gets the API's answer: problem details, a 401 with its
        // WWW-Authenticate challenge.
        if (status == 0 || !context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (status == StatusCodes.Status401Unauthorized)
        {
            var next = context.Request.Path + context.Request.QueryString;
            return TypedResults.Redirect($"{DashboardRoutes.SignIn}?next={Uri.EscapeDataString(HttpMethods.IsGet(context.Request.Method) ? next : DashboardRoutes.Prefix)}");
        }
        var signedIn = context.User.Identity?.IsAuthenticated == true;
        var page = new PageContext(title, "error", signedIn ? context.User.Identity!.Name : null, signedIn ? StrataClaims.PermissionsOf(context.User) : Permissions.None,
            "", "", (DashboardAssets)context.RequestServices.GetService(typeof(DashboardAssets))!);
        return new RazorComponentResult<ErrorPage>(new Dictionary<string, object?> { ["Context"] = page, ["View"] = new ErrorView(status, title, exception.Message, field) })
        {
            StatusCode = status,
        };
    }

    /// <summary>What every dashboard answer carries: scripts and styles from this origin only, no framing, no sniffing,
    /// the referrer for this origin only, and pages never cached.</summary>
    public static void SecurityHeaders(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        // same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form posts, which the cross-site
        // check (WebSafety) rightly refuses.
        headers["Referrer-Policy"] = "same-origin";
        headers.XFrameOptions = "DENY";
        if (!context.Request.Path.StartsWithSegments(DashboardRoutes.Assets, StringComparison.Ordinal))
        {
            // As anti-forgery wants it for pages carrying its tokens (it logs a warning for anything else).
            headers.CacheControl = "no-cache, no-store";
            headers.Pragma = "no-cache";
        }
    }
}
