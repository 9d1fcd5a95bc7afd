// Graph construction and editing.
#include "kiln/ir/graph.h"

#include <algorithm>
#include <set>

namespace kiln {

namespace {
template <typename T>
const T& getAttr(const Node& n, const std::string& key) {
  auto it = n.attrs.find(key);
  if (it == n.attrs.end()) throw Error(n.describe() + ": missing attribute '" + key + "'");
  if (const T* v = std::get_if<T>(&it->second)) return *v;
  throw Error(n.describe() + ": attribute '" + key + "' has the wrong type");
}
}  // namespace

int64_t Node::i(const std::string& key) const {
  return getAttr<int64_t>(*this, key);
}
int64_t Node::i(const std::string& key, int64_t dflt) const {
  return has(key) ? i(key) : dflt;
}
double Node::f(const std::string& key) const {
  auto it = attrs.find(key);
  if (it != attrs.end())
    if (const int64_t* v = std::get_if<int64_t>(&it->second)) return static_cast<double>(*v);
  return getAttr<double>(*this, key);
}
double Node::f(const std::string& key, double dflt) const {
  return has(key) ? f(key) : dflt;
}
const std::string& Node::s(const std::string& key) const {
  return getAttr<std::string>(*this, key);
}
const std::vector<int64_t>& Node::ints(const std::string& key) const {
  return getAttr<std::vector<int64_t>>(*this, key);
}
std::vector<int64_t> Node::ints(const std::string& key, std::vector<int64_t> dflt) const {
  return has(key) ? ints(key) : dflt;
}
const NDArray& Node::tensor(const std::string& key) const {
  return getAttr<NDArray>(*this, key);
}

std::string Node::describe() const {
  return "node '" +
         (name.empty() ? (outputs.empty() ? std::string("?") : outputs[0]->name) : name) + "' (" +
         op + ")";
}

std::string Graph::uniqueName(const std::string& base) {
  std::string b = base.empty() ? "v" : base;
  if (!byName_.count(b)) return b;
  for (int k = 1;; ++k) {
    std::string n = b + "_" + std::to_string(k);
    if (!byName_.count(n)) return n;
  }
}

void Graph::renameValue(Value* v, const std::string& name) {
  if (v->name == name) return;
  auto it = byName_.find(name);
  if (it != byName_.end() && it->second != v)
    throw Error("value name '" + name + "' is already in use");
  byName_.erase(v->name);
  v->name = name;
  byName_[name] = v;
}

Value* Graph::addValue(std::string name, DType dtype, Shape shape) {
  auto v = std::make_unique<Value>();
  v->name = uniqueName(name);
  v->dtype = dtype;
  v->shape = std::move(shape);
  Value* p = v.get();
  byName_[p->name] = p;
  values_.push_back(std::move(v));
  return p;
}

Value* Graph::addConstant(std::string name, NDArray data) {
  Value* v = addValue(std::move(name), data.dtype(), data.shape());
  v->constant = std::move(data);
  return v;
}

Value* Graph::addInput(std::string name, DType dtype, Shape shape) {
  Value* v = addValue(std::move(name), dtype, std::move(shape));
  inputs_.push_back(v);
  return v;
}

namespace {
std::unique_ptr<Node> makeNode(std::string op, std::string name, std::vector<Value*> inputs,
                               std::vector<Value*> outputs) {
  auto n = std::make_unique<Node>();
  n->op = std::move(op);
  n->name = std::move(name);
  n->inputs = std::move(inputs);
  n->outputs = std::move(outputs);
  for (Value* o : n->outputs) o->producer = n.get();
  return n;
}
}  // namespace

Node* Graph::addNode(std::string op, std::string name, std::vector<Value*> inputs,
                     std::vector<Value*> outputs) {
  nodes_.push_back(makeNode(std::move(op), std::move(name), std::move(inputs), std::move(outputs)));
  return nodes_.back().get();
}

Node* Graph::insertNode(const Node* before, std::string op, std::string name,
                        std::vector<Value*> inputs, std::vector<Value*> outputs) {
  auto at = std::find_if(nodes_.begin(), nodes_.end(), [&](auto& n) { return n.get() == before; });
  if (at == nodes_.end()) throw Error("insertNode: the node to insert before is not in the graph");
  return nodes_
      .insert(at, makeNode(std::move(op), std::move(name), std::move(inputs), std::move(outputs)))
      ->get();
}

std::vector<Node*> Graph::nodes() const {
  std::vector<Node*> r;
  r.reserve(nodes_.size());
  for (auto& n : nodes_) r.push_back(n.get());
  return r;
}

std::vector<Value*> Graph::values() const {
  std::vector<Value*> r;
  for (auto& v : values_) r.push_back(v.get());
  return r;
}

Value* Graph::findValue(const std::string& name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : it->second;
}

void Graph::removeNode(Node* n) {
  for (Value* o : n->outputs)
    if (o->producer == n) o->producer = nullptr;
  std::erase_if(nodes_, [n](const std::unique_ptr<Node>& p) { return p.get() == n; });
}

void Graph::replaceAllUses(Value* from, Value* to) {
  for (auto& n : nodes_)
    for (Value*& in : n->inputs)
      if (in == from) in = to;
  for (Value*& o : outputs_)
    if (o == from) o = to;
}

void Graph::eliminateDeadCode() {
  std::set<const Value*> live(outputs_.begin(), outputs_.end());
  std::set<const Node*> liveNodes;
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    Node* n = it->get();
    bool used = std::any_of(n->outputs.begin(), n->outputs.end(),
                            [&](Value* o) { return live.count(o) != 0; });
    if (!used) continue;
    liveNodes.insert(n);
    for (Value* in : n->inputs)
      if (in) live.insert(in);
  }
  std::erase_if(nodes_, [&](const std::unique_ptr<Node>& n) { return !liveNodes.count(n.get()); });
  std::set<const Value*> keep(live);
  for (Value* in : inputs_) keep.insert(in);
  for (auto& n : nodes_)
    for (Value* o : n->outputs) keep.insert(o);
  for (auto& v : values_)
    if (!keep.count(v.get())) byName_.erase(v->name);
  std::erase_if(values_, [&](const std::unique_ptr<Value>& v) { return !keep.count(v.get()); });
}

std::map<const Value*, int> Graph::useCounts() const {
  std::map<const Value*, int> uses;
  for (auto& n : nodes_)
    for (Value* in : n->inputs)
      if (in) ++uses[in];
  return uses;
}

int64_t Graph::parameterCount() const {
  int64_t total = 0;
  for (auto& v : values_)
    if (v->isConstant()) total += v->constant->numel();
  return total;
}

}  // namespace kiln
