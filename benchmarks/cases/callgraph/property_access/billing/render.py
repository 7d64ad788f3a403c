from billing.models import Customer, Invoice, LineItem


def line(item: LineItem) -> str:
    return f"{item.description}: {item.subtotal:.2f}"


def render(invoice: Invoice) -> str:
    lines = [f"Invoice for {invoice.customer.name}"]
    lines.extend(line(i) for i in invoice.items)
    lines.append(f"gross: {invoice.gross:.2f}")
    lines.append(f"net: {invoice.net:.2f} (discount {invoice.customer.discount:.0%})")
    return "\n".join(lines)


def demo() -> str:
    inv = Invoice(Customer("Ada", vip=True)).add("widget", 9.5, 2).add("gadget", 20.0)
    return render(inv)
